"""Issue 17, the scanner's abandoned worker: a scan past its deadline is answered REJECTED while its worker
thread goes on. Before issue 17 that worker could run on for seconds inside one regex call (the 256 KiB RTF:
29 s; the 64 KiB CSV of TABs: 35 s), keeping a core busy for the container's later scans.

Two things bound it now, and each is held without a clock: the work per window is linear
(tests/scanning/test_hostile_inputs.py counts it), and the worker stops at the first chunk it reads after the
deadline. This file holds the second: the S3 object is a stand-in whose every chunk moves a fake clock by
one second, and the assertions are chunks read and whether the worker thread is still alive.
"""

from __future__ import annotations

import threading

import pytest

from chalicelib.scanning import s3_object
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.reasons import Reason
from chalicelib.scanning.s3_object import S3Object
from chalicelib.scanning.scanner import AttachmentScanner
from chalicelib.scanning.source import CHUNK
from tests.scanning.helpers import event, scanner_settings

CHUNKS = 12


class SlowObject:
    """An S3 client for one object of `size` bytes: `first` then TABs (the former 35 s CSV family). Each
    streamed chunk moves `clock` one second on."""

    def __init__(self, size: int, first: bytes = b"a\t"):
        self.size = size
        self.first = first
        self.clock = [0.0]
        self.chunks = 0

    def byte_range(self, start: int, stop: int) -> bytes:
        data = bytearray(b"\t" * (stop - start))
        for index, value in enumerate(self.first[start:stop]):
            data[index] = value
        return bytes(data)

    def get_object(self, Bucket, Key, Range, **pinned):  # noqa: N803 (boto3's names)
        first, last = (int(n) for n in Range.removeprefix("bytes=").split("-"))
        last = min(last, self.size - 1)
        return {
            "Body": _Body(self, first, last + 1),
            "ContentRange": f"bytes {first}-{last}/{self.size}",
            "ContentLength": last + 1 - first,
            "ETag": '"e"',
        }


class _Body:
    def __init__(self, s3: SlowObject, start: int, stop: int):
        self._s3, self._start, self._stop = s3, start, stop

    def read(self) -> bytes:
        return self._s3.byte_range(self._start, self._stop)

    def iter_chunks(self, size: int):
        for offset in range(self._start, self._stop, size):
            self._s3.chunks += 1
            self._s3.clock[0] += 1.0
            yield self._s3.byte_range(offset, min(offset + size, self._stop))

    def close(self) -> None:
        pass


def scan_past_the_deadline(s3: SlowObject, seconds: float):
    deadline = Deadline(seconds, lambda: s3.clock[0])
    scanner = AttachmentScanner(
        scanner_settings(MODERATION_ENABLED="false"),
        lambda bucket, key, deadline: S3Object(s3, bucket, key, deadline).open(8192),
        None,
    )
    return scanner.decide(event("a.csv", s3.size), deadline)


def scan_workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "attachment-scan" and t.is_alive()]


def test_the_worker_stops_at_the_first_chunk_after_the_deadline():
    s3 = SlowObject(CHUNKS * CHUNK)
    verdict = scan_past_the_deadline(s3, 2.5)
    assert verdict.reason is Reason.DEADLINE_EXCEEDED
    assert s3.chunks <= 4  # 3 within the budget, the one that found it spent; not the other 8
    assert not scan_workers()  # nothing left running for the container's next scan


def test_without_a_deadline_the_same_object_is_read_whole_and_clean():
    """The control: the same object scanned with time to spare is read to its end (so the stop above is the
    deadline's) and the TAB run is clean (the formula pattern no longer rescans it)."""
    s3 = SlowObject(CHUNKS * CHUNK)
    assert scan_past_the_deadline(s3, 100.0).reason is Reason.CLEAN
    assert s3.chunks == CHUNKS


def test_a_worker_that_did_not_look_at_the_deadline_would_read_on(monkeypatch):
    """What the first test guards: with the per-chunk check removed, the abandoned worker reads every chunk."""
    original = s3_object.S3Object.stream

    def unchecked(self, start=0, end=None, chunk_size=CHUNK):
        self._deadline = Deadline(float("inf"))  # the per-chunk check never fires
        return original(self, start, end, chunk_size)

    monkeypatch.setattr(s3_object.S3Object, "stream", unchecked)
    s3 = SlowObject(CHUNKS * CHUNK)
    verdict = scan_past_the_deadline(s3, 2.5)
    assert verdict.reason is Reason.DEADLINE_EXCEEDED  # the final check still answers on time...
    assert s3.chunks == CHUNKS  # ...but the worker read on to the end


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    yield
    for thread in scan_workers():
        thread.join(5)
