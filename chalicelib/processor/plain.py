"""text/plain: the redactor reads the text as it is and masks exactly as the Messenger bridge does.

`Unparsed` is the same reading of a content that did not parse as its declared type (invalid JSON) or had
no type at all: it can be analysed, never rendered, so a detection in it rejects the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.redaction import masking
from chalicelib.redaction.detectors import Detection


@dataclass(frozen=True, slots=True)
class PlainText:
    text: str
    exact: bool = True

    def render(self, spans: Sequence[Detection], template: str) -> str | None:
        return masking.mask(self.text, list(spans), template)


@dataclass(frozen=True, slots=True)
class Unparsed:
    text: str
    exact: bool = False

    def render(self, spans: Sequence[Detection], template: str) -> str | None:
        return None


def project(content: str) -> PlainText:
    return PlainText(content)
