"""Typed view of the FILE_SCANNER request (docs/reference/file-scanner.md). Anything else is a malformed event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.scanning.reasons import Reason, Rejected

_MAX_KEY_BYTES = 1024  # S3's limit on key length
_MAX_NAME_CHARS = 1024


@dataclass(frozen=True)
class ScanRequest:
    file_id: str
    instance_id: str
    file_name: str  # uploader-controlled and often personal: never logged
    declared_size: int
    bucket: str
    key: str

    @property
    def extension(self) -> str:
        """Lower-case extension of the uploaded file's name, without the dot ('' when it has none)."""
        stem, dot, ext = self.file_name.rpartition(".")
        return ext.lower() if dot and stem and "/" not in ext and "\\" not in ext else ""


def parse(event: Any) -> ScanRequest:
    """The request in `event`, or Rejected(EVENT_MALFORMED). Never raises anything else."""
    try:
        file = event["File"]
        location = file["FileLocation"]["S3Location"]
        request = ScanRequest(
            file_id=_text(file["FileId"], 256),
            instance_id=_text(event.get("InstanceId", ""), 256, allow_empty=True),
            file_name=_text(file["FileName"], _MAX_NAME_CHARS),
            declared_size=_size(file["FileSizeInBytes"]),
            bucket=_text(location["Bucket"], 63),
            key=_text(location["Key"], _MAX_KEY_BYTES),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Rejected(Reason.EVENT_MALFORMED) from None
    if len(request.key.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        raise Rejected(Reason.EVENT_MALFORMED)
    return request


def _text(value: Any, limit: int, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not value and not allow_empty):
        raise ValueError("bad text field")
    return value


def _size(value: Any) -> int:
    # bool is an int subclass; JSON may also give a float like 10.0, which Connect never sends.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("bad size")
    return value
