"""Legacy Office (doc, xls, ppt): an OLE compound file of the right kind without macros or objects.

Parsed with `olefile` over a read-through block cache on the ranged reader, so only the sectors the
directory and the few streams we read live in (usually a small part of the file) are fetched.
Rejected: VBA projects (`Macros`, `_VBA_PROJECT_CUR`, `VBA` storages), Excel 4.0 (XLM) macro
sheets declared in the workbook globals, embedded OLE objects (`ObjectPool`, `MBD*`,
`\x01Ole10Native`), and encryption (an encrypted OOXML package is a compound file too).
Word 97 DDE fields are found by their field-begin mark followed by `DDE` in the document text.
PowerPoint 97 keeps its VBA project inside the main stream, announced by a VBAInfo container
record ([MS-PPT] RT_VbaInfo 0x03FF holding RT_VbaInfoAtom 0x0400), which is searched for there.
"""

from __future__ import annotations

import io
import re
import struct
from typing import TYPE_CHECKING, Any

from chalicelib.scanning.reasons import Reason, Rejected

if TYPE_CHECKING:
    from chalicelib.scanning.source import ByteSource

_MAIN_STREAM = {"doc": "worddocument", "xls": "workbook", "ppt": "powerpoint document"}
_MACRO_STORAGES = frozenset({"macros", "_vba_project_cur", "vba", "_vba_project"})
_OBJECT_MARKERS = ("objectpool", "\x01ole10native", "\x01compobj_embedded")
_BLOCK = 256 * 1024
_MAX_BLOCKS = 32  # 8 MiB of cache at most
_BOUNDSHEET, _FILEPASS, _EOF = 0x0085, 0x002F, 0x000A
_GLOBALS_SCAN_LIMIT = 4 * 1024 * 1024
# VbaInfoContainer header (recVer 0xF, type 0x03FF, length 0x14) followed by the VbaInfoAtom header.
# Word 97 marks a field's code with 0x13 (begin) ... 0x14 (separator); text is cp1252 or UTF-16LE.
_DOC_DDE_FIELD = re.compile(rb"(?i)\x13[ \t]*dde|\x13\x00(?:[ \t]\x00)*[dD]\x00[dD]\x00[eE]\x00")
_PPT_VBA_INFO = b"\x0f\x00\xff\x03\x14\x00\x00\x00\x02\x00\x00\x04\x0c\x00\x00\x00"


class _CachedReader(io.RawIOBase):
    """A seekable file over a ByteSource, fetching aligned blocks and keeping a few of them."""

    def __init__(self, source: ByteSource) -> None:
        self._source = source
        self._position = 0
        self._blocks: dict[int, bytes] = {}
        self.failure: Rejected | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._source.size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def read(self, size: int = -1) -> bytes:
        end = self._source.size if size is None or size < 0 else min(self._position + size, self._source.size)
        parts = []
        while self._position < end:
            index, within = divmod(self._position, _BLOCK)
            block = self._block(index)
            piece = block[within : within + end - self._position]
            if not piece:
                break
            parts.append(piece)
            self._position += len(piece)
        return b"".join(parts)

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is None:
            try:
                block = self._source.read(index * _BLOCK, _BLOCK)
            except Rejected as rejected:
                self.failure = self.failure or rejected  # olefile may wrap our exception: keep the reason
                raise
            if len(self._blocks) >= _MAX_BLOCKS:
                self._blocks.pop(next(iter(self._blocks)))
            self._blocks[index] = block
        return block


def inspect(source: ByteSource, extension: str) -> None:
    import olefile

    reader = _CachedReader(source)
    try:
        ole = olefile.OleFileIO(reader)
        paths = [[part.lower() for part in path] for path in ole.listdir(streams=True, storages=True)]
        _judge_paths(paths, extension)
        if extension == "xls":
            _judge_workbook_globals(ole)
        if extension == "ppt":
            _judge_presentation(ole)
        if extension == "doc":
            _judge_word_fields(ole)
    except Rejected:
        raise
    except Exception:
        raise reader.failure or Rejected(Reason.OFFICE_MALFORMED) from None


def _judge_paths(paths: list[list[str]], extension: str) -> None:
    top = {path[0] for path in paths}
    if "encryptedpackage" in top or "encryptioninfo" in top:
        raise Rejected(Reason.OFFICE_ENCRYPTED)
    if any(_MACRO_STORAGES.intersection(path) for path in paths):
        raise Rejected(Reason.OFFICE_MACROS)
    if any(part.startswith(_OBJECT_MARKERS) or part.startswith("mbd") for path in paths for part in path):
        raise Rejected(Reason.OFFICE_EMBEDDED_OBJECT)
    main = _MAIN_STREAM.get(extension)  # None for docx/xlsx/pptx: only an encrypted package belongs here
    if main is None or (main not in top and not (extension == "xls" and "book" in top)):
        raise Rejected(Reason.TYPE_MISMATCH, "MainStream")


def _judge_workbook_globals(ole: Any) -> None:
    """BIFF records of the workbook globals: macro sheets (XLM) and password protection."""
    name = "Workbook" if ole.exists("Workbook") else "Book"
    stream = ole.openstream(name)
    scanned = 0
    while scanned < _GLOBALS_SCAN_LIMIT:
        header = stream.read(4)
        if len(header) < 4:
            return
        record, length = struct.unpack("<HH", header)
        body = stream.read(length)
        scanned += 4 + length
        if record == _FILEPASS:
            raise Rejected(Reason.OFFICE_ENCRYPTED)
        if record == _BOUNDSHEET and len(body) >= 6 and body[5] in (0x01, 0x06):
            raise Rejected(Reason.OFFICE_MACROS, "Xlm" if body[5] == 0x01 else "VbModule")
        if record == _EOF:
            return


def _judge_presentation(ole: Any) -> None:
    if _PPT_VBA_INFO in ole.openstream("PowerPoint Document").read():
        raise Rejected(Reason.OFFICE_MACROS, "PptVba")


def _judge_word_fields(ole: Any) -> None:
    if _DOC_DDE_FIELD.search(ole.openstream("WordDocument").read()):
        raise Rejected(Reason.OFFICE_DDE)
