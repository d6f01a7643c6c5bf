"""Pattern scanning over a stream of chunks without holding the whole file.

Each window is some already-seen context, the not-yet-handled bytes, and `keep` bytes of lookahead.
A match is handled in the window where it starts before `limit`, so a pattern (plus whatever its
handler peeks at) up to `keep` bytes long is never cut in two and never handled twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    data: bytes
    base: int  # absolute offset of data[0]
    start: int  # first index not handled by an earlier window (data[:start] is context)
    limit: int  # matches starting at or after this index are handled by the next window
    final: bool

    def matches(self, pattern: re.Pattern) -> Iterator[re.Match]:
        for match in pattern.finditer(self.data, self.start):
            if match.start() >= self.limit:
                return
            yield match


def windows(chunks: Iterable[bytes], keep: int, context: int = 0) -> Iterator[Window]:
    data = b""
    base = 0
    start = 0
    for chunk in chunks:
        data += chunk
        limit = len(data) - keep
        if limit > start:
            yield Window(data, base, start, limit, False)
            cut = max(limit - context, 0)
            data = data[cut:]
            base += cut
            start = limit - cut
    yield Window(data, base, start, len(data), True)
