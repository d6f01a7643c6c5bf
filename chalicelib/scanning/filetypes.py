"""True file type from magic bytes, and which types each allowed extension may really be.

The uploader controls the file name and the Content-Type, so neither decides anything here: the
first bytes do. Executables and archives are named as such so that the decision log says why.
The Messenger relay names customer files with this same sniffer (messaging/connect/upload_type.py), so it
refuses early what the scanner would reject by type.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    HEIC = "heic"
    PDF = "pdf"
    ZIP = "zip"  # an Office Open XML package when office.py agrees
    OLE = "ole"  # legacy Office compound file
    RTF = "rtf"
    WAV = "wav"
    MP4 = "mp4"
    MOV = "mov"
    TEXT = "text"
    EXECUTABLE = "executable"
    ARCHIVE = "archive"
    UNKNOWN = "unknown"


# Every extension the scanner knows how to inspect, and the true types it accepts for each.
# A QuickTime movie and an MP4 are the same ISO-BMFF family and play the same: `.mov` takes both.
# Office Open XML names also take a compound file, because that is what a password-protected
# docx/xlsx/pptx is: ole.py then says `office_encrypted` (or `type_mismatch` for a renamed .doc).
EXTENSION_KINDS: dict[str, frozenset[Kind]] = {
    "csv": frozenset({Kind.TEXT}),
    "txt": frozenset({Kind.TEXT}),
    "rtf": frozenset({Kind.RTF}),
    "pdf": frozenset({Kind.PDF}),
    "doc": frozenset({Kind.OLE}),
    "xls": frozenset({Kind.OLE}),
    "ppt": frozenset({Kind.OLE}),
    "docx": frozenset({Kind.ZIP, Kind.OLE}),
    "xlsx": frozenset({Kind.ZIP, Kind.OLE}),
    "pptx": frozenset({Kind.ZIP, Kind.OLE}),
    "png": frozenset({Kind.PNG}),
    "jpg": frozenset({Kind.JPEG}),
    "jpeg": frozenset({Kind.JPEG}),
    "jfif": frozenset({Kind.JPEG}),
    "heic": frozenset({Kind.HEIC}),
    "wav": frozenset({Kind.WAV}),
    "mp4": frozenset({Kind.MP4}),
    "mov": frozenset({Kind.MOV, Kind.MP4}),
}

_EXECUTABLE_PREFIXES = (
    b"MZ",  # PE / DOS
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary and Java class file
    b"#!",  # script with an interpreter line
    b"\x00asm",  # WebAssembly
    b"dex\n",  # Android
    b"L\x00\x00\x00\x01\x14\x02\x00",  # Windows shortcut (.lnk)
)
_ARCHIVE_PREFIXES = (
    b"PK\x05\x06",
    b"PK\x07\x08",  # empty or spanned zip
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x28\xb5\x2f\xfd",
    b"MSCF",
    b"ITSF",
    b"!<arch>\n",
    b"xar!",
    b"\x04\x22\x4d\x18",
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG = b"\x89PNG\r\n\x1a\n"
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_MOV_BRANDS = frozenset({b"qt  "})
# Audio-only MP4 (AAC voice clips, audiobooks): the same container, so still a `.mp4`.
_AUDIO_MP4_BRANDS = frozenset({b"M4A ", b"M4B "})
_MP4_BRANDS = _AUDIO_MP4_BRANDS | frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"mmp4",
        b"dash",
        b"3gp4",
        b"3gp5",
        b"3gp6",
        b"3g2a",
        b"MSNV",
        b"f4v ",
    }
)
# Bytes a text file never contains: C0 controls except TAB LF VT FF CR, SUB (old EOF marker) and ESC.
_TEXT_FORBIDDEN = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 26, 27))
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sniff(head: bytes) -> Kind:
    """The true type of a file from its first bytes (at least 512 of them when the file has that many)."""
    if head.startswith(_EXECUTABLE_PREFIXES):
        return Kind.EXECUTABLE
    if head.startswith(_ARCHIVE_PREFIXES) or head[257:262] == b"ustar":
        return Kind.ARCHIVE
    if head.startswith(_PNG):
        return Kind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return Kind.JPEG
    if head.startswith(b"%PDF-"):
        return Kind.PDF
    if head.startswith(b"PK\x03\x04"):
        return Kind.ZIP
    if head.startswith(_OLE):
        return Kind.OLE
    if head.startswith(b"{\\rt"):  # Word opens anything starting `{\rt` as RTF, not only `{\rtf1`
        return Kind.RTF
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Kind.WAV
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if b"%PDF-" in head[:1024]:
        # Readers accept the header anywhere in the first KiB (a comment line before it is common): such
        # a file is a PDF to them, so it is one here (and a `.txt` that hides one is a type mismatch).
        return Kind.PDF
    if looks_like_text(head):
        return Kind.TEXT
    return Kind.UNKNOWN


def _iso_media(head: bytes) -> Kind:
    brand = head[8:12]
    if brand in _HEIC_BRANDS:
        return Kind.HEIC
    if brand in _MOV_BRANDS:
        return Kind.MOV
    if brand in _MP4_BRANDS:
        return Kind.MP4
    return Kind.UNKNOWN


def is_audio_only_mp4(head: bytes) -> bool:
    """An MP4 whose brand says it holds sound only (audio/mp4 rather than video/mp4 to a player)."""
    return head[4:8] == b"ftyp" and head[8:12] in _AUDIO_MP4_BRANDS


def looks_like_text(data: bytes) -> bool:
    """No byte that text never holds (UTF-16 with a BOM is judged after decoding)."""
    if data.startswith(UTF16_BOMS):
        body = data[2:]
        body = body[: len(body) - len(body) % 2]
        try:
            decoded = body.decode("utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be", "surrogatepass")
        except UnicodeDecodeError:
            return False
        return not any(ord(ch) < 32 and ord(ch) not in (9, 10, 11, 12, 13) for ch in decoded)
    return not data.translate(None, _ALLOWED_DELETE)


_ALLOWED_DELETE = bytes(b for b in range(256) if b not in _TEXT_FORBIDDEN)


def is_polyglot(kind: Kind, head: bytes, tail: bytes) -> bool:
    """Also a second type that another program would pick by content (a PDF or zip hidden inside)."""
    if kind in (Kind.ZIP, Kind.TEXT):
        return False  # zips are checked end to end by zipdir.py; text is checked byte by byte
    if kind is not Kind.PDF and b"%PDF-" in head[:1024]:
        return True  # Acrobat accepts a PDF header anywhere in the first KiB
    if kind is Kind.OLE:
        # Office 2007+ keeps a theme (a whole zip) inside .doc/.xls streams: its end record is somewhere in
        # the file, never at its end, since streams fill whole sectors. Only an end record that closes
        # the file exactly (with its comment) makes the file a zip to unzip, Java and Office.
        return _zip_end_closes(tail)
    return b"PK\x05\x06" in tail  # a zip's end record: unzip and Office open the file as a zip


def _zip_end_closes(tail: bytes) -> bool:
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if at + 22 <= len(tail) and at + 22 + int.from_bytes(tail[at + 20 : at + 22], "little") == len(tail):
            return True
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False
