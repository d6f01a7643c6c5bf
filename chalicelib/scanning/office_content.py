"""Active content written into Office XML parts: DDE fields in Word, DDE formulas in Excel.

Neither needs a macro. A Word field whose instruction is `DDE`/`DDEAUTO` starts a program when the
document opens (after one prompt); an Excel formula `=cmd|' /C calc'!A0` does the same. These live
in the document body, so the parts that can hold them are inflated as they stream in (never held
whole) and searched with patterns, keeping only the state a field needs.

Word joins a field's instruction from every `instrText` run between its `begin` and `separate`
marks, so `DD` + `EAUTO` in two runs is still `DDEAUTO`; a field whose instruction starts with a
nested field has a type computed at open time and cannot be judged statically.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterable, Iterator

from chalicelib.scanning import zipdir
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.windows import windows

_WORD_PARTS = re.compile(r"^word/(?:glossary/)?[^/]+\.xml$")
_SHEET_PARTS = re.compile(r"^xl/(?:worksheets|chartsheets|dialogsheets)/[^/]+\.xml$")
_FIELD_TOKENS = re.compile(
    rb"<(?:\w+:)?fldChar\b[^>]*?fldCharType=[\"'](?P<mark>\w+)[\"']"
    rb"|<(?:\w+:)?instrText\b[^>]*>(?P<text>[^<]*)<"
    rb"|<(?:\w+:)?fldSimple\b[^>]*?\binstr=(?:\"(?P<simple>[^\"]*)\"|'(?P<simple2>[^']*)')"
)
_FIELD_MARKERS = (b"fldChar", b"instrText", b"fldSimple")
_FORMULA_OPEN = re.compile(rb"<(?:\w+:)?f\b[^>/]*>")
_QUOTED = re.compile(r'"[^"]*"')
_DDE_FIELDS = frozenset({"DDE", "DDEAUTO"})
_KEEP = 64 * 1024  # longer than any one instruction or formula Office writes
# OPC allows XML parts in UTF-8 or UTF-16 only (ECMA-376 Part 2, 8.1.4). These declared encodings keep ASCII
# bytes as they are, so the patterns above read them as written; any other is refused, not guessed at.
_ASCII_COMPATIBLE = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1", "windows-1252"})
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]{0,200}?\bencoding\s*=\s*[\"']([^\"']{0,40})[\"']")
_UTF8_BOM = b"\xef\xbb\xbf"
_HEAD = 256  # enough for the XML declaration


def parts_to_search(extension: str, entries: Iterable[zipdir.ZipEntry]) -> list[zipdir.ZipEntry]:
    """The members that can hold DDE: Word's body-like parts, Excel's sheets (PowerPoint has neither)."""
    pattern = {"docx": _WORD_PARTS, "xlsx": _SHEET_PARTS}.get(extension)
    return [entry for entry in entries if pattern and pattern.match(entry.name.lower())]


def judge_part(extension: str, chunks: Iterable[bytes]) -> None:
    """Raise Rejected(OFFICE_DDE) if this part's inflated content holds a DDE field or formula."""
    chunks = as_utf8(chunks)
    if extension == "docx":
        _judge_fields(chunks)
    else:
        _judge_formulas(chunks)


def _judge_fields(chunks: Iterable[bytes]) -> None:
    stack: list[list[str] | None] = []  # per open field: instruction pieces, or None once judged
    for window in windows(chunks, keep=_KEEP):
        if not any(marker in window.data for marker in _FIELD_MARKERS):
            continue  # most of a body has no field: skip the pattern search (5x faster)
        for match in window.matches(_FIELD_TOKENS):
            mark, text = match.group("mark"), match.group("text")
            simple = match.group("simple") or match.group("simple2")
            if simple is not None:
                _judge_instruction([_text(simple)])
            elif mark == b"begin":
                if stack and stack[-1] == []:
                    raise Rejected(Reason.OFFICE_DDE, "ComputedField")
                stack.append([])
            elif mark in (b"separate", b"end") and stack:
                if stack[-1] is not None:
                    _judge_instruction(stack[-1])
                    stack[-1] = None
                if mark == b"end":
                    stack.pop()
            elif text is not None and stack and stack[-1] is not None:
                piece = _text(text)
                if piece.strip() or stack[-1]:
                    stack[-1].append(piece)


def _judge_instruction(pieces: list[str]) -> None:
    words = "".join(pieces).split(None, 1)
    if words and words[0].upper() in _DDE_FIELDS:
        raise Rejected(Reason.OFFICE_DDE)


def _judge_formulas(chunks: Iterable[bytes]) -> None:
    """A DDE reference is `application|topic!item`: look only where a `|` is, then at its element."""
    for window in windows(chunks, keep=_KEEP, context=_KEEP):  # context: the `<f>` before a `|`
        data = window.data
        bar = data.find(b"|", window.start, window.limit)
        while bar >= 0:
            opening = data.rfind(b"<", 0, bar)
            tag = _FORMULA_OPEN.match(data, opening) if opening >= 0 else None
            if tag is not None and tag.end() <= bar:
                end = data.find(b"<", bar)
                formula = _QUOTED.sub("", _text(data[tag.end() : end if end >= 0 else len(data)]))
                if "|" in formula:  # outside any string: a DDE reference
                    raise Rejected(Reason.OFFICE_DDE, "Formula")
            bar = data.find(b"|", bar + 1, window.limit)


def as_utf8(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A part's content as UTF-8, whatever encoding OPC allows it. The patterns are ASCII bytes: a part
    written in UTF-16 (each letter followed or preceded by a zero byte), which Word and Excel read, passed
    them unseen, a DDEAUTO field and all (issue 17, beside the UTF-16 DTD). UTF-16, with a byte-order mark
    or without (`<` then a zero byte), is decoded as it streams in; UTF-32 and any other declared encoding
    that does not keep ASCII as it is (UTF-7, EBCDIC) are refused as malformed. Linear in the part."""
    stream = iter(chunks)
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= _HEAD:
            break
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"<\x00\x00\x00", b"\x00\x00\x00<"):
        raise Rejected(Reason.OFFICE_MALFORMED, "Encoding")
    if head[:2] in (b"\xff\xfe", b"<\x00"):
        yield from _transcoded(head, stream, "utf-16-le")
        return
    if head[:2] in (b"\xfe\xff", b"\x00<"):
        yield from _transcoded(head, stream, "utf-16-be")
        return
    declared = _DECLARED_ENCODING.match(head.removeprefix(_UTF8_BOM))
    if declared is not None and declared.group(1).decode("ascii", "replace").lower() not in _ASCII_COMPATIBLE:
        raise Rejected(Reason.OFFICE_MALFORMED, "Encoding")
    if head:
        yield head
    yield from stream


def _transcoded(head: bytes, rest: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        yield decoder.decode(head).encode("utf-8")
        for chunk in rest:
            yield decoder.decode(chunk).encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")
    except UnicodeError:  # a lone surrogate, an odd byte count: not a part Office writes
        raise Rejected(Reason.OFFICE_MALFORMED, "Encoding") from None


def _text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))
