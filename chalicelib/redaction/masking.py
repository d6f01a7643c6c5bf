"""Merge detections and mask them: each span becomes `[TYPE]` (PII_MASK_TEMPLATE).

Rules:
- overlapping spans merge into one mask, named by the highest-priority type among them;
- a span that holds digits grows over the rest of its number (widening.py), so a detector or Comprehend
  stopping short never leaves part of a number visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from chalicelib.redaction.detectors import Detection
from chalicelib.redaction.widening import widen, widen_all


def merge(
    detections: Iterable[Detection], text: str, priority: Mapping[str, int], widened: bool = False
) -> list[Detection]:
    """Non-overlapping spans sorted by start; digit-bearing spans widened over touching digits (`widened`: the
    caller widened them over this very text already)."""
    grow = (lambda d, _text: d) if widened else widen
    if isinstance(detections, list) and len(detections) == 1:  # the usual case: nothing to sort or merge
        only = detections[0]
        return [grow(only, text)] if 0 <= only.start < only.end <= len(text) else []
    inside = [d for d in detections if 0 <= d.start < d.end <= len(text)]
    spans = sorted(inside if widened else widen_all(inside, text), key=lambda d: (d.start, -d.end))
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
        pieces.append(text[cursor : span.start])
        pieces.append(template.replace("{type}", span.entity_type))
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _rank(detection: Detection, priority: Mapping[str, int]) -> int:
    return priority.get(detection.entity_type, len(priority))
