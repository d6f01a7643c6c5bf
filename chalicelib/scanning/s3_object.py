"""The uploaded object in S3, read with ranged GETs (adapter behind `ByteSource`).

Every read is pinned to the ETag seen by HEAD (`IfMatch`), so the bytes we inspect are the bytes
that were sized and typed, and the moderation call is pinned to the same version when versioning
is on. Errors become `Rejected` with the AWS error code as detail: the scanner fails closed.
"""

from __future__ import annotations

from typing import Any, Iterator

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

    def open(self) -> "S3Object":
        """HEAD the object: its real size, ETag and version."""
        head = self._call(self._s3.head_object, Bucket=self.bucket, Key=self.key)
        self.size = int(head.get("ContentLength", 0))
        self.etag = head.get("ETag")
        self.version_id = head.get("VersionId")
        return self

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self.size:
            return b""
        last = min(offset + length, self.size) - 1
        body = self._get(offset, last)
        try:
            data = body.read()
        except Exception as exc:  # botocore read timeouts and connection resets arrive here
            raise Rejected(Reason.S3_ERROR, _code(exc)) from None
        finally:
            body.close()
        self.bytes_read += len(data)
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

    def _get(self, first: int, last: int) -> Any:
        params = {"Bucket": self.bucket, "Key": self.key, "Range": f"bytes={first}-{last}"}
        if self.etag:
            params["IfMatch"] = self.etag
        if self.version_id:
            params["VersionId"] = self.version_id
        return self._call(self._s3.get_object, **params)["Body"]

    def _call(self, operation, **params) -> dict:
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
