"""The true type of a customer's file, from its bytes, for naming it before it is handed to Connect.

Messenger's CDN URLs and declared types say little (a sticker is "image", a document is "file"), and
Amazon Connect accepts attachments by extension, so the relay names each file after what its bytes
are. Only types Connect can accept by default are recognised (REFERENCE.md §5); anything else is
`None` and never reaches Connect. Connect's FILE_SCANNER still inspects whatever we upload; this is
about choosing a truthful name and refusing early, not about trusting the file.

Works on a seekable binary file (the relay spools downloads to /tmp) and reads at most a few KiB,
except for legacy Office files, whose stream names are searched chunk by chunk.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO

HEAD_BYTES = 4096
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    extension: str
    mime: str


JPEG = FileType("jpg", "image/jpeg")
PNG = FileType("png", "image/png")
PDF = FileType("pdf", "application/pdf")
RTF = FileType("rtf", "application/rtf")
WAV = FileType("wav", "audio/wav")
MP4 = FileType("mp4", "video/mp4")
MP4_AUDIO = FileType("mp4", "audio/mp4")
MOV = FileType("mov", "video/quicktime")
HEIC = FileType("heic", "image/heic")
DOCX = FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PPTX = FileType("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")
DOC = FileType("doc", "application/msword")
XLS = FileType("xls", "application/vnd.ms-excel")
PPT = FileType("ppt", "application/vnd.ms-powerpoint")
TXT = FileType("txt", "text/plain")

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AUDIO_BRANDS = {b"M4A ", b"M4B "}
_OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_OLE_STREAMS = (("WordDocument", DOC), ("Workbook", XLS), ("PowerPoint Document", PPT))


def sniff(file: BinaryIO) -> FileType | None:
    """What the file really is, or None when it is not a type we may pass on. Leaves the position at 0."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if not head:
        return None
    try:
        return _by_signature(head, file)
    finally:
        file.seek(0)


def _by_signature(head: bytes, file: BinaryIO) -> FileType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"{\\rtf"):
        return RTF
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith(b"PK\x03\x04"):
        return _office_open_xml(file)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _legacy_office(file)
    return TXT if _is_text(head) else None


def _iso_media(head: bytes) -> FileType:
    brand = head[8:12]
    if brand == b"qt  ":
        return MOV
    if brand in _HEIF_BRANDS:
        return HEIC
    if brand in _AUDIO_BRANDS:
        return MP4_AUDIO
    return MP4


def _office_open_xml(file: BinaryIO) -> FileType | None:
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None  # a plain zip: Connect does not take archives
    for prefix, kind in _OOXML_PARTS:
        if any(name.startswith(prefix) for name in names):
            return kind
    return None


def _legacy_office(file: BinaryIO) -> FileType | None:
    """OLE2 compound files: the directory names the main stream (UTF-16LE), wherever it lies."""
    wanted = [(name.encode("utf-16-le"), kind) for name, kind in _OLE_STREAMS]
    overlap = max(len(needle) for needle, _ in wanted)
    tail = b""
    file.seek(0)
    while chunk := file.read(_CHUNK):
        window = tail + chunk
        for needle, kind in wanted:
            if needle in window:
                return kind
        tail = window[-overlap:]
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as problem:
        # A multi-byte character cut at the end of the sample is still text.
        if problem.start < len(head) - 3:
            return False
    return True
