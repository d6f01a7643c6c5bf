"""Which structure check runs for each true type, with the policy it needs from the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.scanning import images, media, office, ole, pdf, rtf, text, zipdir
from chalicelib.scanning.filetypes import Kind
from chalicelib.scanning.moderation import Moderator
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.source import ByteSource

if TYPE_CHECKING:
    from chalicelib.settings import ScannerSettings


@dataclass(frozen=True)
class Inspection:
    """Everything a structure check may need about one file."""

    source: ByteSource
    kind: Kind
    extension: str
    head: bytes  # the first bytes (the whole file when it is small)
    settings: ScannerSettings
    moderator: Moderator | None
    bucket: str
    key: str
    version: str | None


def _office(job: Inspection) -> Reason:
    limits = zipdir.ZipLimits(
        job.settings.zip_max_entries, job.settings.zip_max_uncompressed_bytes, job.settings.zip_max_ratio
    )
    office.inspect(job.source, job.extension, limits)
    return Reason.CLEAN


def _ole(job: Inspection) -> Reason:
    ole.inspect(job.source, job.extension)
    return Reason.CLEAN


def _pdf(job: Inspection) -> Reason:
    pdf.inspect(
        job.source, allow_encrypted=job.settings.allow_encrypted_pdf, max_inflated=job.settings.pdf_max_inflated_bytes
    )
    return Reason.CLEAN


def _rtf(job: Inspection) -> Reason:
    rtf.inspect(job.source)
    return Reason.CLEAN


def _text(job: Inspection) -> Reason:
    text.inspect(job.source, check_formulas=job.extension == "csv" and not job.settings.allow_csv_formulas)
    return Reason.CLEAN


def _media(job: Inspection) -> Reason:
    media.inspect(job.kind, job.head, job.source.size)
    return Reason.CLEAN


def _image(job: Inspection) -> Reason:
    fits = images.fits_rekognition(job.kind, job.head, job.source.size)
    if job.moderator is None:
        return Reason.CLEAN_UNMODERATED  # MODERATION_ENABLED=false: type and structure only
    try:
        if not fits:
            raise Rejected(Reason.IMAGE_UNSUPPORTED, "Heic" if job.kind is Kind.HEIC else "SizeOrPixels")
        result = job.moderator.moderate(job.bucket, job.key, job.version)
    except Rejected as rejected:
        if rejected.reason is Reason.IMAGE_UNSUPPORTED and job.settings.allow_unsupported_images:
            return Reason.CLEAN_UNMODERATED
        raise
    if result.category is not None:
        raise Rejected(Reason.IMAGE_MODERATED, result.category)
    return Reason.CLEAN


INSPECTORS: dict[Kind, Callable[[Inspection], Reason]] = {
    Kind.ZIP: _office,
    Kind.OLE: _ole,
    Kind.PDF: _pdf,
    Kind.RTF: _rtf,
    Kind.TEXT: _text,
    Kind.WAV: _media,
    Kind.MP4: _media,
    Kind.MOV: _media,
    Kind.PNG: _image,
    Kind.JPEG: _image,
    Kind.HEIC: _image,
}
