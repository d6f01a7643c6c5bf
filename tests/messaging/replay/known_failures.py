"""Corpus cases the bridge does not handle yet, by failure class (issue 16). Each entry is an xfail with
`strict=True`: when a fix makes one pass, the test fails until its line here is removed."""

from __future__ import annotations

KNOWN: dict[str, str] = {}

KNOWN_STREAM: dict[str, str] = {}
