"""Random-access, streaming view of the uploaded bytes, and an in-memory one for tests and fuzzing.

Inspectors read only through this interface so that the S3 adapter can serve them with ranged GETs
and count every byte that crossed the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

CHUNK = 1024 * 1024


class ByteSource(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def requests(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes:
        """Exactly bytes [offset, offset+length) clipped to the object (one request)."""

    def stream(self, start: int = 0, end: int | None = None, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """Bytes [start, end) as chunks of at most chunk_size, from one request."""


class MemorySource:
    """A ByteSource over bytes already in memory (unit tests, hypothesis, baselines)."""

    def __init__(self, data: bytes):
        self._data = data
        self.size = len(data)
        self.bytes_read = 0
        self.requests = 0

    def read(self, offset: int, length: int) -> bytes:
        self.requests += 1
        piece = self._data[max(offset, 0) : max(offset, 0) + max(length, 0)]
        self.bytes_read += len(piece)
        return piece

    def stream(self, start: int = 0, end: int | None = None, chunk_size: int = CHUNK) -> Iterator[bytes]:
        self.requests += 1
        stop = self.size if end is None else min(end, self.size)
        view = memoryview(self._data)
        for offset in range(start, stop, chunk_size):
            piece = bytes(view[offset : min(offset + chunk_size, stop)])
            self.bytes_read += len(piece)
            yield piece


def head_and_tail(source: ByteSource, head: int, tail: int) -> tuple[bytes, bytes]:
    """The first `head` and last `tail` bytes, in one request when they overlap (then head is the whole file)."""
    if source.size <= head + tail:
        whole = source.read(0, source.size)
        return whole, whole[-tail:] if tail else b""
    return source.read(0, head), source.read(source.size - tail, tail)


class Prefetched:
    """A ByteSource that answers from the head and tail already fetched when it can.

    Small files are then read from S3 exactly once, and a zip's end record (in the tail) costs no
    extra request.
    """

    def __init__(self, source: ByteSource, head: bytes, tail: bytes):
        self._source = source
        self._head = head
        self._tail = tail
        self.size = source.size
        self.version_id = getattr(source, "version_id", None)

    @property
    def bytes_read(self) -> int:
        return self._source.bytes_read

    @property
    def requests(self) -> int:
        return self._source.requests

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if offset >= 0 and end <= len(self._head):
            return self._head[offset:end]
        tail_start = self.size - len(self._tail)
        if offset >= tail_start:
            return self._tail[offset - tail_start : end - tail_start]
        return self._source.read(offset, length)

    def stream(self, start: int = 0, end: int | None = None, chunk_size: int = CHUNK) -> Iterator[bytes]:
        stop = self.size if end is None else min(end, self.size)
        if start < len(self._head):  # the head is already here: only the rest crosses the network
            cut = min(len(self._head), stop)
            for offset in range(start, cut, chunk_size):
                yield self._head[offset : min(offset + chunk_size, cut)]
            start = cut
        if start < stop:
            yield from self._source.stream(start, stop, chunk_size)
