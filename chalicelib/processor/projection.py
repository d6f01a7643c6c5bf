"""What the redactor reads of one content, and how masks are cut around what they must not touch.

A content type handler turns a content into a `Projection`: `text` is what the redactor analyses (same
length as whatever the handler maps it back to), `render(spans)` puts the masks back into the content's
own form. Positions marked in a `blocked` bytearray (markdown syntax, the separators between JSON string
values) are never covered by a mask: a detection that runs across them is cut into pieces, each masked.

`render` returns None when the content cannot be masked without changing its shape (PII in a JSON
number): the caller rejects the message instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.redaction.detectors import Detection


class Projection(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def exact(self) -> bool:
        """False when the content did not parse as its type: there is no safe masked form of it."""
        ...

    def render(self, spans: Sequence[Detection], template: str) -> str | None: ...


def cut(text: str, spans: Sequence[Detection], blocked: bytearray) -> list[Detection]:
    """`spans` split at blocked positions, each piece trimmed of whitespace; empty pieces dropped."""
    pieces: list[Detection] = []
    for span in spans:
        start = span.start
        while start < span.end:
            while start < span.end and (blocked[start] or text[start].isspace()):
                start += 1
            end = start
            while end < span.end and not blocked[end]:
                end += 1
            stop = end
            while stop > start and text[stop - 1].isspace():
                stop -= 1
            if stop > start:
                pieces.append(Detection(span.entity_type, start, stop, span.score))
            start = end
    return pieces


def mask_text(template: str, entity_type: str) -> str:
    return template.replace("{type}", entity_type)
