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
# \Z, not $: `$` also matches before a final newline, which would join a number to the one on the line above.
_ENDS = {True: re.compile("\\d[ \u00a0\u3000./-]?\\Z"), False: re.compile(r"\d/?\Z")}
_DIGIT = re.compile(r"\d")

# Where walks over a text already led: (grouped, forward, position) -> the position the walk ended at.
_Walks = dict[tuple[bool, bool, int], int]


def widen(detection: D, text: str, walks: _Walks | None = None) -> D:
    """`detection` grown over the rest of the number it holds part of (unchanged if it holds no digit).

    `walks` (see `widen_all`) remembers every position a walk passed: a later walk reaching one stops there."""
    start, end = detection.start, detection.end
    # Most detections end in an ASCII digit: no search. str.isdigit also counts superscripts and the like, which \d
    # does not: asked only of non-ASCII text.
    if (
        not "0" <= text[end - 1 : end] <= "9"
        and _DIGIT.search(text, start, end) is None
        and (text.isascii() or not any(ch.isdigit() for ch in text[start:end]))
    ):
        return detection
    grouped = detection.entity_type in _GROUPED
    continues, ends = _CONTINUES[grouped], _ENDS[grouped]
    # Most detections end where their number does: one look each way, and no walk.
    moved = False
    if continues.match(text, end) is not None:
        end, moved = _walk(text, end, continues, (grouped, True), walks), True
    if start and ends.search(text, max(0, start - 2), start) is not None:
        start, moved = _walk(text, start, ends, (grouped, False), walks), True
    return detection._replace(start=start, end=end) if moved else detection


def _walk(text: str, position: int, pattern: re.Pattern[str], way: tuple[bool, bool], walks: _Walks | None) -> int:
    """From `position`, group after group over the number while `pattern` (a `_CONTINUES` forward, an `_ENDS`
    backward) joins the next one; where the walk ends."""
    grouped, forward = way
    passed: list[tuple[bool, bool, int]] = []
    while True:
        if walks is not None:
            known = walks.get((grouped, forward, position))
            if known is not None:
                position = known
                break
            passed.append((grouped, forward, position))
        if forward:
            match = pattern.match(text, position)
            if match is None:
                break
            position = match.end()
            while position < len(text) and text[position].isdigit():
                position += 1
        else:
            match = pattern.search(text, max(0, position - 2), position) if position else None
            if match is None:
                break
            position = match.start()
            while position > 0 and text[position - 1].isdigit():
                position -= 1
    if walks is not None:
        walks.update(dict.fromkeys(passed, position))
    return position


def widen_all(detections: list[D], text: str) -> list[D]:
    """Every detection widened. Detections in one number share its walk: a message of many cards typed in one
    digit run costs work linear in its length, not in its length times its cards."""
    if len(detections) < 2:  # the usual case
        return [widen(d, text) for d in detections]
    walks: _Walks = {}
    return [widen(d, text, walks) for d in detections]
