"""How far a detected number reaches: a span that holds digits grows over the rest of its number.

A detector or Comprehend stopping short must never leave part of a number visible. Detection widens its own
spans too (over the normalised text), so what it reasons about (a second look at the masked text, the
card-fragment rules) is what masking will leave visible.
"""

from __future__ import annotations

import re
from typing import Protocol, Self, TypeVar


class _Detection(Protocol):
    """What widening reads of a detection (detectors.Detection, a NamedTuple, so `_replace`)."""

    @property
    def entity_type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    def _replace(self, *, start: int = ..., end: int = ...) -> Self: ...


D = TypeVar("D", bound=_Detection)

# For card numbers, one space, dash, dot or slash followed by a digit continues the number ("4111 1111",
# "4111-1111"), as in the digit runs detectors read: a detector that ends inside the grouping (Comprehend can)
# must not leave a group visible, nor end inside "10.0", leaving "10." to read as the start of a card. For the
# rest only touching digits do: their formats are fixed, and a date or an IP address beside them is another number.
# For every type a slash between digits joins one token ("12/28", "10.0.0.0/24"): a mask never ends inside it,
# which would leave "/28" visible.
_GROUPED = frozenset({"CREDIT_DEBIT_NUMBER"})
_CONTINUES = {True: re.compile("[ \u00a0\u3000./-]?\\d"), False: re.compile(r"/?\d")}
_ENDS = {True: re.compile("\\d[ \u00a0\u3000./-]?$"), False: re.compile(r"\d/?$")}
_DIGIT = re.compile(r"\d")


def widen(detection: D, text: str) -> D:
    """`detection` grown over the rest of the number it holds part of (unchanged if it holds no digit)."""
    start, end = detection.start, detection.end
    # str.isdigit also counts superscripts and the like, which \d does not: asked only of non-ASCII text.
    if _DIGIT.search(text, start, end) is None and (text.isascii() or not any(ch.isdigit() for ch in text[start:end])):
        return detection
    grouped = detection.entity_type in _GROUPED
    continues, ends = _CONTINUES[grouped], _ENDS[grouped]
    while True:
        match = continues.match(text, end)
        if match is None:
            break
        end = match.end()
        while end < len(text) and text[end].isdigit():
            end += 1
    while start > 0:
        match = ends.search(text, max(0, start - 2), start)
        if match is None:
            break
        start = match.start()
        while start > 0 and text[start - 1].isdigit():
            start -= 1
    if (start, end) == (detection.start, detection.end):
        return detection
    return detection._replace(start=start, end=end)
