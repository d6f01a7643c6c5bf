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
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from chalicelib.scanning.filetypes import UTF16_BOMS, looks_like_text
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.windows import windows

if TYPE_CHECKING:
    from chalicelib.scanning.source import ByteSource

# A cell starts after a line break or a separator; leading blanks and quotes are skipped as Excel does.
# The pattern starts with a character class so that re can skip quickly to candidate positions.
# Linear time (issue 17): the skipped blanks never include a separator, so two candidates never rescan the
# same bytes. With TAB among the blanks, a run of n tabs cost n^2/2 steps (11 s for 32 KB; the regex holds
# the GIL, so the deadline could not fire). A TAB inside the blanks is itself a separator: the candidate
# starting there judges the rest of the cell, so nothing is missed.
_BLANKS = b" \"'"
_SEPARATORS = b",;\t\n"
_CELL_START = rb"[ \"']*(?:[=@]|[+\-][^,;\t\r\n]*?[A-Za-z(|!])"
_FORMULA = re.compile(rb"[,;\t\n]" + _CELL_START)
_FIRST_CELL = re.compile(rb"(?:\xef\xbb\xbf)?" + _CELL_START)
# Longer than Excel's longest cell (32,767 characters, up to 3 UTF-8 bytes each), so that the lazy
# search from a leading sign to a letter is never cut at a window's end.
_KEEP = 128 * 1024


# Excel opens a `.csv` whose first record is `ID;` as SYLK, whose formulas (`;E...` fields, e.g.
# `C;Y1;X1;EEXEC("calc")`) never start with `=`: a SYLK file is judged as a formula carrier whole.
_SYLK = b"ID;"


def inspect(source: ByteSource, *, check_formulas: bool) -> None:
    if check_formulas and source.read(0, len(_SYLK)) == _SYLK:
        raise Rejected(Reason.CSV_FORMULA, "Sylk")
    head = source.read(0, 2)
    chunks: Iterable[bytes] = source.stream()
    if head in UTF16_BOMS:
        chunks = _utf16_as_utf8(chunks, "utf-16-le" if head == b"\xff\xfe" else "utf-16-be")
    for window in windows(chunks, keep=_KEEP):
        if not looks_like_text(window.data[window.start : window.limit]):
            raise Rejected(Reason.TEXT_BINARY)
        if check_formulas:
            if window.base == 0 and _FIRST_CELL.match(window.data):
                raise Rejected(Reason.CSV_FORMULA)
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
