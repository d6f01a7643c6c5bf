"""Office Open XML (docx, xlsx, pptx): a real package of the right kind, with nothing active in it.

Judged from the zip's central directory (names, sizes) plus the small XML parts that declare what
the package holds: `[Content_Types].xml` and every relationships part (`*.rels`). Rejected: macros
(a `.docm` renamed `.docx` still declares its macro-enabled main part and carries `vbaProject.bin`),
ActiveX, embedded OLE objects and executables, and relationships that make Office fetch something
from elsewhere when the file opens (remote templates, external OLE links, frames, images).
Embedded Office packages of the non-macro types (a chart's workbook) are allowed. DDE, which needs
no macro, is searched for in the document body by office_content.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalicelib.scanning import office_content, zipdir
from chalicelib.scanning.reasons import Reason, Rejected

if TYPE_CHECKING:
    from chalicelib.scanning.source import ByteSource

_OOXML = "application/vnd.openxmlformats-officedocument."
MAIN_CONTENT_TYPES = {
    "docx": _OOXML + "wordprocessingml.document.main+xml",
    "xlsx": _OOXML + "spreadsheetml.sheet.main+xml",
    "pptx": _OOXML + "presentationml.presentation.main+xml",
}
_ANY_MAIN = re.compile(r"\.main\+xml$")
_MACRO_TYPES = ("macroenabled", "vbaproject", "vbadata", "macrosheet", "ms-office.vba")
_SAFE_EMBEDDINGS = (".xlsx", ".docx", ".pptx", ".png", ".jpeg", ".jpg", ".gif", ".emf", ".wmf", ".bmp", ".tif", ".tiff")
_MACRO_PACKAGES = frozenset({"docm", "dotm", "xlsm", "xltm", "xlsb", "xlam", "pptm", "potm", "ppsm", "ppam", "sldm"})
_PROGRAMS = frozenset(
    {
        "exe",
        "dll",
        "scr",
        "com",
        "cpl",
        "msi",
        "bat",
        "cmd",
        "ps1",
        "vbs",
        "vbe",
        "js",
        "jse",
        "wsf",
        "wsh",
        "hta",
        "lnk",
        "jar",
        "sh",
        "app",
    }
)
_EXTERNAL_OK = ("/hyperlink",)  # a link the reader must click; everything else fetches on open
_MAX_PART = 4 * 1024 * 1024


def inspect(source: ByteSource, extension: str, limits: zipdir.ZipLimits) -> None:
    directory = zipdir.read_directory(source, limits)
    by_name = {entry.name.lower(): entry for entry in directory.entries}
    content_types = by_name.get("[content_types].xml")
    if content_types is None:
        raise Rejected(Reason.ARCHIVE)  # a zip, but not an Office package
    for name in by_name:
        _judge_part_name(name)
    structure = [content_types] + [entry for name, entry in by_name.items() if name.endswith(".rels")]
    if any(entry.uncompressed > _MAX_PART for entry in structure):
        raise Rejected(Reason.ZIP_TOO_LARGE_UNCOMPRESSED, "Member")
    structural = {entry.offset for entry in structure}
    body = office_content.parts_to_search(extension, directory.entries)
    # One pass over the members we need: neighbours share ranged reads, large ones stream.
    for entry, chunks in zipdir.member_chunks(source, structure + body):
        if entry is content_types:
            _judge_content_types(_parse_xml(b"".join(chunks)), extension)
        elif entry.offset in structural:
            _judge_relationships(_parse_xml(b"".join(chunks)))
        else:
            office_content.judge_part(extension, chunks)


def _judge_part_name(name: str) -> None:
    base = name.rsplit("/", 1)[-1]
    extension = base.rpartition(".")[2]
    if extension in _MACRO_PACKAGES:
        raise Rejected(Reason.OFFICE_MACROS, "MacroPackage")
    if extension in _PROGRAMS:
        raise Rejected(Reason.OFFICE_EMBEDDED_OBJECT, "Program")
    if "/externallinks/" in f"/{name}":  # links to other workbooks or DDE servers, refreshed on open
        raise Rejected(Reason.OFFICE_EXTERNAL_RELATIONSHIP, "ExternalLink")
    if base in ("vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin") or "/macrosheets/" in f"/{name}":
        raise Rejected(Reason.OFFICE_MACROS)
    if "/activex/" in f"/{name}":
        raise Rejected(Reason.OFFICE_ACTIVEX)
    if "/embeddings/" in f"/{name}" and not base.endswith(_SAFE_EMBEDDINGS):
        raise Rejected(Reason.OFFICE_EMBEDDED_OBJECT)


def _parse_xml(content: bytes) -> Any:
    from xml.etree import ElementTree

    # OPC forbids DTDs; refusing them also rules out entity-expansion tricks in the parser.
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise Rejected(Reason.OFFICE_MALFORMED, "Dtd")
    _refuse_dtd_in_any_encoding(content)
    try:
        return ElementTree.fromstring(content)
    except ElementTree.ParseError:
        raise Rejected(Reason.OFFICE_MALFORMED, "Xml") from None


class _DtdFound(Exception):
    pass


def _refuse_dtd_in_any_encoding(content: bytes) -> None:
    """The byte check above misses `<!DOCTYPE` written in UTF-16 (each letter followed by a zero byte), which
    ElementTree still reads, DTD and all (issue 17). Expat decodes the part as ElementTree will and reports
    any document type or entity declaration, in whatever encoding; an encoding it cannot read is malformed."""
    from xml.parsers import expat

    def refuse(*_args: object) -> None:
        raise _DtdFound()

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(content, True)
    except _DtdFound:
        raise Rejected(Reason.OFFICE_MALFORMED, "Dtd") from None
    except (expat.ExpatError, ValueError):
        raise Rejected(Reason.OFFICE_MALFORMED, "Xml") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _judge_content_types(root: Any, extension: str) -> None:
    declared = {
        element.get("ContentType", "").strip().lower()
        for element in root.iter()
        if _local(element.tag) in ("Default", "Override")
    }
    if any(marker in ctype for ctype in declared for marker in _MACRO_TYPES):
        raise Rejected(Reason.OFFICE_MACROS)
    if any("activex" in ctype for ctype in declared):
        raise Rejected(Reason.OFFICE_ACTIVEX)
    if any("oleobject" in ctype for ctype in declared):
        raise Rejected(Reason.OFFICE_EMBEDDED_OBJECT)
    if any("externallink" in ctype for ctype in declared):
        raise Rejected(Reason.OFFICE_EXTERNAL_RELATIONSHIP, "ExternalLink")
    expected = MAIN_CONTENT_TYPES[extension]
    mains = {ctype for ctype in declared if _ANY_MAIN.search(ctype) and ctype.startswith(_OOXML)}
    if expected not in declared or mains - {expected}:
        raise Rejected(Reason.TYPE_MISMATCH, "MainPart")


def _judge_relationships(root: Any) -> None:
    for element in root.iter():
        if _local(element.tag) != "Relationship":
            continue
        kind = element.get("Type", "").strip().lower()
        if kind.endswith("/vbaproject"):
            raise Rejected(Reason.OFFICE_MACROS)
        if kind.endswith("/control"):
            raise Rejected(Reason.OFFICE_ACTIVEX)
        if kind.endswith(("/oleobject", "/afchunk")):  # altChunk imports RTF/HTML, objects and all
            raise Rejected(Reason.OFFICE_EMBEDDED_OBJECT)
        if element.get("TargetMode", "").strip().lower() == "external" and not kind.endswith(_EXTERNAL_OK):
            if kind.endswith("/image") and _is_local_file(element.get("Target", "")):
                continue  # a picture linked from the author's own disk: Office shows a placeholder here
            raise Rejected(Reason.OFFICE_EXTERNAL_RELATIONSHIP)


def _is_local_file(target: str) -> bool:
    """`file:///C:/...` or `file://localhost/...`: this machine, never a network share (a UNC host such as
    `file://attacker/share` makes Windows send the user's NTLM hash, so it stays a rejection)."""
    lowered = target.strip().lower()
    for prefix in ("file:///", "file://localhost/"):
        if lowered.startswith(prefix):
            rest = lowered[len(prefix) :]
            return not rest.startswith(("/", "\\")) and not any(mark in rest for mark in ("\\\\", "//", "%5c"))
    return False
