"""Plain text and CSV: really text all the way through, and (per setting) no spreadsheet formulas.

A CSV cell that a spreadsheet reads as a formula (`=`, `@`, or `+`/`-` followed by more than a
number) can run DDE commands or exfiltrate data when an agent opens the file (CSV injection).
Cells are found by a byte pattern rather than a CSV parser so that `;` and TAB separated files,
as Excel writes them in many locales, are judged too; a quoted cell containing a separator may be
judged as two cells, which can only reject more.
"""

from __future__ import annotations

import codecs
import re
from typing import Iterable, Iterator

from chalicelib.scanning.filetypes import UTF16_BOMS, looks_like_text
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.windows import windows

_FORMULA = re.compile(
    rb"(?:^(?:\xef\xbb\xbf)?|[,;\t])[ \t\"']*(?:[=@]|[+\-][^,;\t\r\n]*?[A-Za-z(|!])",
    re.MULTILINE,
)
_KEEP = 4096


def inspect(source, *, check_formulas: bool) -> None:
    head = source.read(0, 2)
    chunks: Iterable[bytes] = source.stream()
    if head in UTF16_BOMS:
        chunks = _utf16_as_utf8(chunks, "utf-16-le" if head == b"\xff\xfe" else "utf-16-be")
    for window in windows(chunks, keep=_KEEP):
        if not looks_like_text(window.data[window.start:window.limit]):
            raise Rejected(Reason.TEXT_BINARY)
        if check_formulas:
            for _ in window.matches(_FORMULA):
                raise Rejected(Reason.CSV_FORMULA)


def _utf16_as_utf8(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    first = True
    try:
        for chunk in chunks:
            if first:
                chunk, first = chunk[2:], False
            yield decoder.decode(chunk).encode("utf-8", "surrogatepass")
        yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise Rejected(Reason.TEXT_BINARY) from None
