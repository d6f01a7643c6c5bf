"""Issue 17: adversarial cost and an encoding bypass in the scanner, each measured without a clock.

- CSV/SYLK formula cells: a run of TABs made the cell pattern rescan (n^2/2 steps: 11 s for 32 KB, 35 s for
  64 KB against a 5 s budget; the regex holds the GIL, so the deadline could not fire). Checked on the
  pattern's shape (no skipped blank is a separator, so candidates never overlap) and by the verdicts.
- RTF field instructions: `\\fldinst` repeated made every occurrence examine 8 KiB (29 s for 256 KB). The
  bytes examined are counted and must stay within the file's size.
- Office parts: a DTD written in UTF-16 passed the byte check and ElementTree read it.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from chalicelib.scanning import pdf, pdf_crypt, rtf, text
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.source import MemorySource
from tests.scanning import files
from tests.scanning.helpers import decide

# ------------------------------------------------------------------------------------------------ CSV


def test_the_cells_skipped_blanks_are_never_separators():
    """Two candidate cell starts cannot rescan the same bytes: the work is linear in the file."""
    assert not set(text._BLANKS) & set(text._SEPARATORS)
    assert text._CELL_START.startswith(
        b"[" + text._BLANKS.replace(b'"', b'\\"') + b"]*"
    ) or text._CELL_START.startswith(rb"[ \"']*")


@pytest.mark.parametrize(
    "data",
    [
        b"a\t" + b"\t" * 65536 + b"b\r\n",  # the worst family: a run of TABs
        b"a," + b" " * 65536 + b"b\r\n",
        b"a," + b"'" * 65536 + b"b\r\n",
    ],
)
def test_long_runs_of_blanks_are_clean(data):
    assert decide("a.csv", data).reason is Reason.CLEAN


@pytest.mark.parametrize("cell", ["\t=1+1", "\t\t\t@SUM(A1)", " \t -1+cmd|'/c calc'!A0", '\t "=HYPERLINK(x)'])
def test_a_formula_behind_tabs_and_blanks_is_still_found(cell):
    assert decide("a.csv", files.csv("a,b", f"x,{cell}")).reason is Reason.CSV_FORMULA
    assert decide("a.csv", f"x\t{cell}\r\n".encode()).reason is Reason.CSV_FORMULA


# ------------------------------------------------------------------------------------------------ RTF


def rtf_work(data: bytes) -> tuple[int, Reason | None]:
    work = [0]
    try:
        rtf.inspect(MemorySource(data), work)
    except Rejected as rejected:
        return work[0], rejected.reason
    return work[0], None


@pytest.mark.parametrize("size", [16 * 1024, 64 * 1024, 256 * 1024])
def test_repeated_field_instructions_cost_their_length(size):
    unit = b"{\\fldinst "
    data = b"{\\rtf1 " + unit * (size // len(unit)) + b"}"
    work, reason = rtf_work(data)
    assert work <= len(data)
    assert reason is Reason.RTF_FIELD_CODE  # an instruction open for 8 KiB is refused, not half read


def test_closed_field_instructions_are_each_judged_once():
    body = b'{\\field{\\*\\fldinst HYPERLINK "https://example.com"}{\\fldrslt x}}' * 2000
    data = b"{\\rtf1 " + body + b"}"
    work, reason = rtf_work(data)
    assert reason is None and work <= len(data)


def test_dde_nested_inside_an_instruction_is_still_found():
    data = b"{\\rtf1 {\\field{\\*\\fldinst {\\fldinst x}{D}{\\b DE}AUTO c:\\\\cmd}{\\fldrslt y}}}"
    assert rtf_work(data)[1] is Reason.RTF_FIELD_CODE


# ------------------------------------------------------------------------------------------------ Office


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_dtd_written_in_utf16_is_rejected(encoding):
    package = files.ooxml("docx")
    original = zipfile.ZipFile(io.BytesIO(package)).read("[Content_Types].xml").decode("utf-8")
    body = original.split("?>", 1)[1] if original.startswith("<?xml") else original
    declared = encoding.upper() if encoding == "utf-16" else "UTF-16"
    xml = f'<?xml version="1.0" encoding="{declared}"?><!DOCTYPE Types [<!ENTITY e "x">]>{body}'
    data = xml.encode(encoding)
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data
    elif encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    verdict = decide("a.docx", files.replace_member(package, "[Content_Types].xml", data))
    assert verdict.reason is Reason.OFFICE_MALFORMED


def test_utf16_content_types_without_a_dtd_are_still_read():
    package = files.ooxml("docx")
    original = zipfile.ZipFile(io.BytesIO(package)).read("[Content_Types].xml").decode("utf-8")
    body = original.split("?>", 1)[1] if original.startswith("<?xml") else original
    data = f'<?xml version="1.0" encoding="UTF-16"?>{body}'.encode("utf-16")
    assert decide("a.docx", files.replace_member(package, "[Content_Types].xml", data)).reason is Reason.CLEAN


# ------------------------------------------------------------------------------------------------ PDF


def strings_work(data: bytes) -> tuple[int, list[bool]]:
    """Ask, for every name in `data` in order (as the scan does), whether it lies inside a string."""
    strings = pdf._Strings(data)
    answers = [strings.inside(match.start()) for match in pdf._NAME.finditer(data)]
    return strings.work, answers


@pytest.mark.parametrize("size", [16 * 1024, 256 * 1024])
def test_names_inside_strings_are_lexed_once(size):
    """Lexing from the object's header at every name cost 4 KiB of Python per name (seconds per 256 KiB)."""
    obj = b"1 0 obj\n<< /T (" + b"/JavaScript " * 300 + b") >>\nendobj\n"
    data = b"%PDF-1.4\n" + obj * (size // len(obj))
    work, answers = strings_work(data)
    assert all(answers) and len(answers) >= size // 16
    assert work <= len(data)
    assert decide("a.pdf", data).reason is Reason.CLEAN


def test_a_run_of_digits_is_not_rescanned_by_the_object_header_pattern():
    digits = b"1" * 65536
    assert pdf._OBJECT_HEADER.pattern.startswith(rb"(?<![0-9])")
    header = pdf._OBJECT_HEADER.search(digits + b" 0 obj")
    assert header is not None and header.start() == 0
    assert pdf._OBJECT_HEADER.search(b"x" + digits) is None


def test_an_encryption_dictionary_is_read_once_per_window(monkeypatch):
    """Nested `5 0 obj<<` headers made every one read up to 64 KiB of dictionary: 36 s for a 64 KiB file."""
    reads: list[int] = []
    original = pdf_crypt._balanced_dict

    def counted(data, start):
        reads.append(start)
        return original(data, start)

    monkeypatch.setattr(pdf_crypt, "_balanced_dict", counted)
    count = 64 * 1024 // 11
    data = b"%PDF-1.4\n" + b"5 0 obj<<" * count + b">>" * count + b"\ntrailer << /Encrypt 5 0 R >>\n%%EOF\n"
    with pytest.raises(Rejected):
        pdf_crypt.find_security(MemorySource(data))
    assert len(reads) <= 2  # the one window, and the trailer's edges


# ------------------------------------------------------------------------------------------------ CSV, on the
# compiled pattern: the shape that makes the formula search linear, read from what `re` runs, not from the
# constants beside it.


def _bytes_of(items) -> set[int]:
    """The bytes a character class (or literal) can match; fails on a construct it does not know."""
    import re._parser as sre

    matched: set[int] = set()
    negate = False
    for op, value in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            matched.add(value)
        elif op is sre.RANGE:
            matched.update(range(value[0], value[1] + 1))
        elif op is sre.IN:
            matched |= _bytes_of(value)
        else:
            raise AssertionError(f"unexpected {op} in a class")
    return set(range(256)) - matched if negate else matched


def _unbounded_repeats(items):
    """Every unbounded repeat in a parsed pattern, nested ones included, as the set of bytes its body matches."""
    import re._parser as sre

    for op, value in items:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, body = value
            if high is sre.MAXREPEAT:
                yield _bytes_of(list(body))
            yield from _unbounded_repeats(body)
        elif op is sre.BRANCH:
            for branch in value[1]:
                yield from _unbounded_repeats(branch)
        elif op is sre.SUBPATTERN:
            yield from _unbounded_repeats(value[3])


def _rescans(pattern: bytes) -> bool:
    """Whether a candidate can examine bytes past the next candidate's start: some unbounded repeat can match
    a byte that starts a candidate (the pattern's first class). Then a run of such bytes costs n^2/2."""
    import re._parser as sre

    first_op, first = sre.parse(pattern)[0]
    assert first_op is sre.IN
    starts = _bytes_of(first)
    return any(repeat & starts for repeat in _unbounded_repeats(sre.parse(pattern)))


def test_no_repeat_of_the_formula_search_crosses_a_candidates_start():
    assert not _rescans(text._FORMULA.pattern)


def test_the_check_above_finds_the_pattern_issue_17_replaced():
    """The pattern before 3c5a228 (TAB among the skipped blanks): 35 s for 64 KiB of TABs."""
    before = rb"[,;\t\n][ \t\"']*(?:[=@]|[+\-][^,;\t\r\n]*?[A-Za-z(|!])"
    assert _rescans(before)
