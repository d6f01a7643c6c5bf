"""Legacy Office (doc, xls, ppt): an OLE compound file of the right kind without macros or objects.

Parsed with `olefile` over a read-through block cache on the ranged reader, so only the sectors the
directory and the few streams we read live in (usually a small part of the file) are fetched.
Rejected: VBA projects (`Macros`, `_VBA_PROJECT_CUR`, `VBA` storages), Excel 4.0 (XLM) macro
sheets declared in the workbook globals, embedded OLE objects (`ObjectPool`, `MBD*`,
`\x01Ole10Native`), and encryption (an encrypted OOXML package is a compound file too).
Word 97 DDE fields are found by their field-begin mark followed by `DDE` in the document text.
Encrypted Word and PowerPoint 97 files (RC4 / CryptoAPI) are recognised by the FIB's fEncrypted flag
and the `EncryptedSummary` stream: nothing in them can be inspected.
PowerPoint 97 keeps its VBA project and its embedded OLE objects and packages inside the main stream
([MS-PPT] records), so that stream's record tree is walked: a VbaInfo container (RT_VbaInfo 0x03FF,
whose header carries recInstance 1 in real files), an ExOleEmbed / ExOleLink container or an
ExOleObjStg (the compressed storage of an object or of the VBA project) is a rejection.
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
# [MS-PPT] record types that mean active or embedded content inside the PowerPoint Document stream.
_PPT_VBA_INFO, _PPT_EX_OLE_OBJ_STG = 0x03FF, 0x1011
_PPT_OBJECT_RECORDS = frozenset(
    {
        0x0FCC,  # RT_ExternalOleEmbed
        0x0FCE,  # RT_ExternalOleLink
        0x0FC3,  # RT_ExternalOleObjectAtom
        _PPT_EX_OLE_OBJ_STG,  # RT_ExternalOleObjectStg: an object's (or the VBA project's) storage
    }
)
_PPT_MAX_RECORDS = 2_000_000
_FIB_FLAGS_OFFSET, _FIB_ENCRYPTED = 0x0A, 0x0100
# Word 97 marks a field's code with 0x13 (begin) ... 0x14 (separator); text is cp1252 or UTF-16LE.
_DOC_DDE_FIELD = re.compile(rb"(?i)\x13[ \t]*dde|\x13\x00(?:[ \t]\x00)*[dD]\x00[dD]\x00[eE]\x00")


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
    if "encryptedpackage" in top or "encryptioninfo" in top or "encryptedsummary" in top:
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
    judge_ppt_records(ole.openstream("PowerPoint Document").read())


def judge_ppt_records(data: bytes) -> None:
    """Walk the record tree (containers have recVer 0xF and are entered, atoms are skipped): linear, no recursion."""
    offset, seen = 0, 0
    while offset + 8 <= len(data):
        ver_instance, record_type, length = struct.unpack_from("<HHI", data, offset)
        seen += 1
        if seen > _PPT_MAX_RECORDS:
            raise Rejected(Reason.OFFICE_MALFORMED, "PptRecords")
        if record_type == _PPT_VBA_INFO:
            raise Rejected(Reason.OFFICE_MACROS, "PptVba")
        if record_type in _PPT_OBJECT_RECORDS:
            raise Rejected(Reason.OFFICE_EMBEDDED_OBJECT, "PptOle")
        if ver_instance & 0x000F == 0x000F:
            offset += 8  # a container: its children follow its header
        else:
            offset += 8 + length


def _judge_word_fields(ole: Any) -> None:
    document = ole.openstream("WordDocument").read()
    if len(document) >= _FIB_FLAGS_OFFSET + 2 and (
        struct.unpack_from("<H", document, _FIB_FLAGS_OFFSET)[0] & _FIB_ENCRYPTED
    ):
        raise Rejected(Reason.OFFICE_ENCRYPTED, "Fib")
    if _DOC_DDE_FIELD.search(document):
        raise Rejected(Reason.OFFICE_DDE)
