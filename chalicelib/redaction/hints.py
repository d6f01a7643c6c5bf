"""Which of a set of hint words a text holds: the cheap substrings detectors need before their patterns are worth
running (detectors.py), found in one pass over a prefix tree of them all rather than an `in` test per word."""

from __future__ import annotations

import re
from collections.abc import Iterable

from chalicelib.redaction import languages as lang


class HintWords:
    __slots__ = ("_any", "_implied", "_starts")

    def __init__(self, hints: Iterable[str]):
        words = {hint.lower() for hint in hints}
        tree = lang.prefix_tree(words)
        # Most messages hold none: one search over the tree says so. Otherwise a look-ahead over the same tree, from
        # there on, yields the longest hint starting at each position, and `_implied` adds the hints that are its
        # prefixes ("exp" in "expiry").
        self._any = re.compile(tree)
        self._starts = re.compile(f"(?=({tree}))")
        self._implied = {word: frozenset(h for h in words if word.startswith(h)) for word in words}

    def found_in(self, lowered: str) -> set[str]:
        """The hint words `lowered` (lower-cased text) holds."""
        present: set[str] = set()
        first = self._any.search(lowered)
        if first is not None:
            for match in self._starts.finditer(lowered, first.start()):
                word = match.group(1)
                present.update(self._implied.get(word, (word,)))  # (a hint with a space matches other spacing)
        return present
