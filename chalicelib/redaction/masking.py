"""Merge detections and mask them: each span becomes `[TYPE]` (PII_MASK_TEMPLATE).

Rules:
- overlapping spans merge into one mask, named by the highest-priority type among them;
- a span that holds digits grows over the digits touching it (and, for card numbers, over the next group
  after a space or dash), so a detector or Comprehend stopping short never leaves part of a number visible.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from chalicelib.redaction.detectors import Detection

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


def merge(detections: Iterable[Detection], text: str, priority: Mapping[str, int]) -> list[Detection]:
    """Non-overlapping spans sorted by start; digit-bearing spans widened over touching digits."""
    if isinstance(detections, list) and len(detections) == 1:  # the usual case: nothing to sort or merge
        only = detections[0]
        return [_widen(only, text)] if 0 <= only.start < only.end <= len(text) else []
    spans = sorted((_widen(d, text) for d in detections if 0 <= d.start < d.end <= len(text)),
                   key=lambda d: (d.start, -d.end))
    merged: list[Detection] = []
    for detection in spans:
        if merged and detection.start < merged[-1].end:
            last = merged[-1]
            keep = last if _rank(last, priority) <= _rank(detection, priority) else detection
            end, score = max(last.end, detection.end), max(last.score, detection.score)
            merged[-1] = Detection(keep.entity_type, last.start, end, score)
        else:
            merged.append(detection)
    return merged


def mask(text: str, spans: list[Detection], template: str) -> str:
    if not spans:
        return text
    pieces = []
    cursor = 0
    for span in spans:
        pieces.append(text[cursor:span.start])
        pieces.append(template.replace("{type}", span.entity_type))
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _rank(detection: Detection, priority: Mapping[str, int]) -> int:
    return priority.get(detection.entity_type, len(priority))


def _widen(detection: Detection, text: str) -> Detection:
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
    return Detection(detection.entity_type, start, end, detection.score)
