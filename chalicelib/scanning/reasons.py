"""Reason codes: the metric-friendly vocabulary of every scanner decision (documented in the README)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    # approved
    CLEAN = "clean"
    CLEAN_UNMODERATED = "clean_unmoderated"  # image Rekognition cannot take, allowed by SCAN_UNSUPPORTED_IMAGES
    # the request itself
    EVENT_MALFORMED = "event_malformed"
    SETTINGS_INVALID = "settings_invalid"
    EXTENSION_NOT_ALLOWED = "extension_not_allowed"
    FILE_TOO_LARGE = "file_too_large"
    FILE_EMPTY = "file_empty"
    SIZE_MISMATCH = "size_mismatch"
    # the object and the infrastructure
    OBJECT_MISSING = "object_missing"
    OBJECT_CHANGED = "object_changed"
    S3_ERROR = "s3_error"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    INTERNAL_ERROR = "internal_error"
    # antivirus engine (SCAN_ANTIVIRUS): clamd or GuardDuty Malware Protection for S3
    MALWARE = "malware"  # detail: the signature / threat name, never the file name
    ANTIVIRUS_UNAVAILABLE = "antivirus_unavailable"  # clamd unreachable
    ANTIVIRUS_ERROR = "antivirus_error"  # clamd answered an error; GuardDuty FAILED / ACCESS_DENIED
    ANTIVIRUS_LIMIT = "antivirus_limit"  # over clamd's StreamMaxLength or a scan limit (AlertExceedsMax)
    ANTIVIRUS_ENCRYPTED = "antivirus_encrypted"  # encrypted archive/document the engine cannot see into
    ANTIVIRUS_UNSUPPORTED = "antivirus_unsupported"  # GuardDuty UNSUPPORTED
    ANTIVIRUS_PENDING = "antivirus_pending"  # GuardDuty's tag did not arrive within the deadline
    # true type
    EXECUTABLE = "executable"
    ARCHIVE = "archive"
    POLYGLOT = "polyglot"
    TYPE_MISMATCH = "type_mismatch"
    TYPE_UNKNOWN = "type_unknown"
    # zip containers
    ZIP_MALFORMED = "zip_malformed"
    ZIP_UNSUPPORTED = "zip_unsupported"
    ZIP_TOO_MANY_ENTRIES = "zip_too_many_entries"
    ZIP_TOO_LARGE_UNCOMPRESSED = "zip_too_large_uncompressed"
    ZIP_RATIO = "zip_ratio"
    ZIP_ENCRYPTED = "zip_encrypted"
    # Office
    OFFICE_MACROS = "office_macros"
    OFFICE_ACTIVEX = "office_activex"
    OFFICE_EMBEDDED_OBJECT = "office_embedded_object"
    OFFICE_EXTERNAL_RELATIONSHIP = "office_external_relationship"
    OFFICE_DDE = "office_dde"
    OFFICE_ENCRYPTED = "office_encrypted"
    OFFICE_MALFORMED = "office_malformed"
    # PDF
    PDF_MALFORMED = "pdf_malformed"
    PDF_JAVASCRIPT = "pdf_javascript"
    PDF_AUTO_ACTION = "pdf_auto_action"
    PDF_LAUNCH = "pdf_launch"
    PDF_EMBEDDED_FILE = "pdf_embedded_file"
    PDF_RICH_MEDIA = "pdf_rich_media"
    PDF_XFA = "pdf_xfa"
    PDF_ENCRYPTED = "pdf_encrypted"
    PDF_UNREADABLE_STREAM = "pdf_unreadable_stream"
    # RTF and text
    RTF_OBJECT = "rtf_object"
    RTF_FIELD_CODE = "rtf_field_code"
    TEXT_BINARY = "text_binary"
    CSV_FORMULA = "csv_formula"
    # media and images
    MEDIA_MALFORMED = "media_malformed"
    IMAGE_MALFORMED = "image_malformed"
    IMAGE_UNSUPPORTED = "image_unsupported"
    IMAGE_MODERATED = "image_moderated"
    MODERATION_ERROR = "moderation_error"


APPROVING = frozenset({Reason.CLEAN, Reason.CLEAN_UNMODERATED})


class Rejected(Exception):
    """Raised by an inspector when the file must be rejected; carries only a reason code."""

    def __init__(self, reason: Reason, detail: str | None = None):
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail  # a log-safe code (e.g. the AWS error code), never data from the file or event


@dataclass(frozen=True)
class Verdict:
    reason: Reason
    detected_type: str | None = None
    detail: str | None = None  # log-safe: an AWS error code, a check name, or the moderation category

    @property
    def approved(self) -> bool:
        return self.reason in APPROVING

    @property
    def status(self) -> str:
        return "APPROVED" if self.approved else "REJECTED"

    def response(self) -> dict:
        """Exactly the FILE_SCANNER response contract (docs/reference/file-scanner.md): no other field."""
        return {"Status": self.status}
