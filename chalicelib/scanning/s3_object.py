"""The uploaded object in S3, read with ranged GETs (adapter behind `ByteSource`).

Opening the object is one ranged GET of its first bytes: its `Content-Range` gives the real size,
so no separate HEAD round trip is spent. Every later read is pinned to the ETag (and version) seen
then (`IfMatch`), so the bytes we inspect are the bytes that were sized and typed, and the
moderation call is pinned to the same version when versioning is on. Errors become `Rejected`
with the AWS error code as detail: the scanner fails closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.source import CHUNK

_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})
_CHANGED = frozenset({"412", "PreconditionFailed"})


class S3Object:
    def __init__(self, s3: Any, bucket: str, key: str, deadline: Deadline):
        self._s3 = s3
        self.bucket = bucket
        self.key = key
        self._deadline = deadline
        self.size = 0
        self.etag: str | None = None
        self.version_id: str | None = None
        self.bytes_read = 0
        self.requests = 0
        self._first = b""

    def open(self, first_bytes: int = 8192) -> S3Object:
        """Fetch the first bytes; learn the real size, ETag and version from the same response."""
        try:
            response = self._call(
                self._s3.get_object, Bucket=self.bucket, Key=self.key, Range=f"bytes=0-{first_bytes - 1}"
            )
        except Rejected as rejected:
            if rejected.detail != "InvalidRange":
                raise
            return self._open_empty()
        self.etag = response.get("ETag")
        self.version_id = response.get("VersionId")
        total = str(response.get("ContentRange", "")).rpartition("/")[2]
        self.size = int(total) if total.isdigit() else int(response.get("ContentLength", 0))
        self._first = self._drain(response["Body"])
        if len(self._first) != min(first_bytes, self.size):
            raise Rejected(Reason.OBJECT_CHANGED, "ShortRead")
        return self

    def _open_empty(self) -> S3Object:
        # A range on an empty object is unsatisfiable (416); HEAD tells the size (normally 0).
        head = self._call(self._s3.head_object, Bucket=self.bucket, Key=self.key)
        self.size = int(head.get("ContentLength", 0))
        self.etag = head.get("ETag")
        self.version_id = head.get("VersionId")
        return self

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self.size:
            return b""
        if offset < len(self._first):  # the opening read already holds a prefix of this range
            cached = self._first[offset : offset + length]
            if len(cached) == min(length, self.size - offset):
                return cached
            return cached + self.read(offset + len(cached), length - len(cached))
        last = min(offset + length, self.size) - 1
        data = self._drain(self._get(offset, last))
        if len(data) != last - offset + 1:
            raise Rejected(Reason.OBJECT_CHANGED, "ShortRead")
        return data

    def stream(self, start: int = 0, end: int | None = None, chunk_size: int = CHUNK) -> Iterator[bytes]:
        stop = self.size if end is None else min(end, self.size)
        if start >= stop:
            return
        body = self._get(start, stop - 1)
        received = 0
        try:
            for piece in body.iter_chunks(chunk_size):
                self._deadline.check()
                received += len(piece)
                self.bytes_read += len(piece)
                yield piece
        except Rejected:
            raise
        except Exception as exc:
            raise Rejected(Reason.S3_ERROR, _code(exc)) from None
        finally:
            body.close()
        if received != stop - start:
            raise Rejected(Reason.OBJECT_CHANGED, "ShortRead")

    def _drain(self, body: Any) -> bytes:
        try:
            data = body.read()
        except Exception as exc:  # botocore read timeouts and connection resets arrive here
            raise Rejected(Reason.S3_ERROR, _code(exc)) from None
        finally:
            body.close()
        self.bytes_read += len(data)
        return data

    def _get(self, first: int, last: int) -> Any:
        params = {"Bucket": self.bucket, "Key": self.key, "Range": f"bytes={first}-{last}"}
        if self.etag:
            params["IfMatch"] = self.etag
        if self.version_id:
            params["VersionId"] = self.version_id
        return self._call(self._s3.get_object, **params)["Body"]

    def _call(self, operation: Any, **params: Any) -> dict[str, Any]:
        self._deadline.check()
        self.requests += 1
        try:
            return operation(**params)
        except Exception as exc:
            code = _code(exc)
            if code in _MISSING:
                raise Rejected(Reason.OBJECT_MISSING, code) from None
            if code in _CHANGED:
                raise Rejected(Reason.OBJECT_CHANGED, code) from None
            raise Rejected(Reason.S3_ERROR, code) from None


def _code(exc: BaseException) -> str:
    from chalicelib.aws import error_code

    return error_code(exc)
