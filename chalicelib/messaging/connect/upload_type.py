"""What a customer's file is uploaded to Connect as: an extension and a MIME type, from its bytes.

Messenger's CDN URLs and declared types say little (a sticker is "image", a document is "file"), and
Amazon Connect accepts attachments by extension, so the relay names each file after what its bytes
are. The true type comes from the attachment scanner's own sniffer (scanning/filetypes.py), so a file
the relay names `.pdf` is one that Connect's FILE_SCANNER (this project's scanner) also sees as a PDF.
Only types Connect can accept by default are named (docs/reference/file-scanner.md); anything else is `None` and
never reaches Connect. The scanner still inspects whatever we upload: this is about a truthful name
and refusing early, not about trusting the file.

Works on a seekable binary file (the relay spools downloads to /tmp) and reads a few KiB, except for
Office files, whose kind (Word, Excel, PowerPoint) is read from the zip directory or searched for in
the compound file's stream names chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from chalicelib.scanning import filetypes
from chalicelib.scanning.filetypes import Kind

HEAD_BYTES = 8 * 1024  # what the scanner sniffs, so both judge the same bytes
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class UploadType:
    extension: str
    mime: str


JPEG = UploadType("jpg", "image/jpeg")
PNG = UploadType("png", "image/png")
PDF = UploadType("pdf", "application/pdf")
RTF = UploadType("rtf", "application/rtf")
WAV = UploadType("wav", "audio/wav")
MP4 = UploadType("mp4", "video/mp4")
MP4_AUDIO = UploadType("mp4", "audio/mp4")
MOV = UploadType("mov", "video/quicktime")
HEIC = UploadType("heic", "image/heic")
DOCX = UploadType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = UploadType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PPTX = UploadType("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")
DOC = UploadType("doc", "application/msword")
XLS = UploadType("xls", "application/vnd.ms-excel")
PPT = UploadType("ppt", "application/vnd.ms-powerpoint")
TXT = UploadType("txt", "text/plain")
CSV = UploadType("csv", "text/csv")

# Executables, archives and unknown bytes have no entry: they are refused.
_BY_KIND = {
    Kind.JPEG: JPEG,
    Kind.PNG: PNG,
    Kind.PDF: PDF,
    Kind.RTF: RTF,
    Kind.WAV: WAV,
    Kind.MP4: MP4,
    Kind.MOV: MOV,
    Kind.HEIC: HEIC,
    Kind.TEXT: TXT,
}
_OOXML_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_OLE_STREAMS = (("WordDocument", DOC), ("Workbook", XLS), ("PowerPoint Document", PPT))


def upload_type(file: BinaryIO) -> UploadType | None:
    """What the file really is, or None when it is not a type we may pass on. Leaves the position at 0."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if not head:
        return None
    try:
        return _by_kind(filetypes.sniff(head), head, file)
    finally:
        file.seek(0)


def _by_kind(kind: Kind, head: bytes, file: BinaryIO) -> UploadType | None:
    if kind is Kind.ZIP:
        return _office_open_xml(file)
    if kind is Kind.OLE:
        return _legacy_office(file)
    if kind is Kind.MP4 and filetypes.is_audio_only_mp4(head):
        return MP4_AUDIO
    return _BY_KIND.get(kind)


def _office_open_xml(file: BinaryIO) -> UploadType | None:
    import zipfile

    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None  # a plain zip: Connect does not take archives
    for prefix, named in _OOXML_PARTS:
        if any(name.startswith(prefix) for name in names):
            return named
    return None


def _legacy_office(file: BinaryIO) -> UploadType | None:
    """OLE2 compound files: the directory names the main stream (UTF-16LE), wherever it lies."""
    wanted = [(name.encode("utf-16-le"), named) for name, named in _OLE_STREAMS]
    overlap = max(len(needle) for needle, _ in wanted)
    tail = b""
    file.seek(0)
    while chunk := file.read(_CHUNK):
        window = tail + chunk
        for needle, named in wanted:
            if needle in window:
                return named
        tail = window[-overlap:]
    return None


def customer_file_name(url: str, kind: UploadType) -> tuple[str, UploadType] | None:
    """The customer's own file name from Meta's CDN URL (its last path segment), made safe, with the
    extension of what the bytes are; None when the URL names no file. A text file the customer named `.csv`
    stays a CSV, so the scanner judges it as one (spreadsheet formulas), exactly as it would the agent's copy.
    """
    import re
    from urllib.parse import unquote, urlsplit

    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    stem, dot, extension = segment.rpartition(".")
    if not dot or not stem:
        return None
    if kind is TXT and extension.lower() == "csv":
        kind = CSV
    safe = re.sub(r"[^A-Za-z0-9 ._()-]+", "_", stem).strip(" ._")[:80]
    return (f"{safe}.{kind.extension}", kind) if safe else None
