"""Which characters of a text are covered by some span: overlap questions in O(span length), not O(spans).

A hostile 1 MB message can hold a hundred thousand detections; comparing each against every other would
take minutes. A byte per character answers "does this span touch a detection?" by looking at the span only.
"""

from __future__ import annotations

from collections.abc import Iterable


class Coverage:
    __slots__ = ("_marks",)

    def __init__(self, length: int, spans: Iterable[tuple[int, int]] = ()):
        self._marks = bytearray(length)
        for start, end in spans:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        if end > start:
            self._marks[start:end] = b"\x01" * (end - start)

    def touches(self, start: int, end: int) -> bool:
        """Some character of [start, end) is covered. (`find` over the range: a slice would copy it first.)"""
        return self._marks.find(1, start, end) >= 0

    def holds(self, start: int, end: int) -> bool:
        """Every character of [start, end) is covered."""
        return end > start and self._marks.find(0, start, end) < 0

    def __bool__(self) -> bool:
        return 1 in self._marks

    def outside(self, text: str) -> str:
        """`text` without its covered characters."""
        if not self:
            return text
        return "".join(ch for ch, mark in zip(text, self._marks) if not mark)
