"""Issue 17, found in this audit beside the UTF-16 DTD: the DDE search over Word and Excel parts read ASCII bytes,
so a part written in UTF-16 (which OPC allows and Office reads) carried a DDEAUTO field or a DDE formula past
it: the scanner answered CLEAN. Parts are now read as UTF-8 whatever encoding OPC allows them, and an encoding
OPC does not allow (UTF-32, UTF-7) is refused as malformed.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.scanning import office_content
from chalicelib.scanning.reasons import Reason
from tests.scanning import files
from tests.scanning.helpers import decide

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
DDE_FIELD = (
    '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
    '<w:r><w:instrText xml:space="preserve"> DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe" </w:instrText></w:r>'
    '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>x</w:t></w:r>'
    '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
)
DDE_FORMULA = "cmd|' /C calc'!A0"
# (Python codec, byte-order mark written before the part)
UTF16 = {
    "utf-16-le with BOM": ("utf-16-le", b"\xff\xfe"),
    "utf-16-be with BOM": ("utf-16-be", b"\xfe\xff"),
    "utf-16-le without BOM": ("utf-16-le", b""),
    "utf-16-be without BOM": ("utf-16-be", b""),
}


def document(body: str, encoding: str = "utf-8", bom: bytes = b"", declared: str = "UTF-16") -> bytes:
    xml = f'<?xml version="1.0" encoding="{declared}"?><w:document {W}><w:body><w:p>{body}</w:p></w:body></w:document>'
    return files.ooxml("docx", main_body=bom + xml.encode(encoding))


def workbook(formula: str, encoding: str = "utf-8", bom: bytes = b"", declared: str = "UTF-16") -> bytes:
    xml = (
        f'<?xml version="1.0" encoding="{declared}"?><worksheet><sheetData><row r="1"><c r="A1"><f>{formula}</f>'
        "<v>0</v></c></row></sheetData></worksheet>"
    )
    return files.ooxml("xlsx", extra_parts={"xl/worksheets/sheet1.xml": bom + xml.encode(encoding)})


@pytest.mark.parametrize("encoding, bom", list(UTF16.values()), ids=list(UTF16))
def test_a_dde_field_in_a_utf16_document_is_rejected(encoding, bom):
    assert decide("memo.docx", document(DDE_FIELD, encoding, bom)).reason is Reason.OFFICE_DDE  # was CLEAN


@pytest.mark.parametrize("encoding, bom", list(UTF16.values()), ids=list(UTF16))
def test_a_dde_formula_in_a_utf16_sheet_is_rejected(encoding, bom):
    verdict = decide("q3.xlsx", workbook(DDE_FORMULA, encoding, bom))
    assert (verdict.reason, verdict.detail) == (Reason.OFFICE_DDE, "Formula")  # was CLEAN


@pytest.mark.parametrize("encoding, bom", list(UTF16.values()), ids=list(UTF16))
def test_ordinary_utf16_parts_are_still_clean(encoding, bom):
    field = DDE_FIELD.replace(' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe" ', " PAGE ")
    assert decide("memo.docx", document(field + "<w:r><w:t>Grüße</w:t></w:r>", encoding, bom)).reason is Reason.CLEAN
    assert decide("q3.xlsx", workbook("SUM(A2:A9)", encoding, bom)).reason is Reason.CLEAN


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00\x00" + '<?xml version="1.0"?><w:document/>'.encode("utf-32-le"),
        '<?xml version="1.0"?><w:document/>'.encode("utf-32-be"),
        b'<?xml version="1.0" encoding="UTF-7"?><w:document/>',
        b'<?xml version="1.0" encoding="cp037"?><w:document/>',
    ],
    ids=["utf-32 with BOM", "utf-32 without", "utf-7 declared", "ebcdic declared"],
)
def test_encodings_opc_does_not_allow_are_refused(data):
    verdict = decide("memo.docx", files.ooxml("docx", main_body=data))
    assert (verdict.reason, verdict.detail) == (Reason.OFFICE_MALFORMED, "Encoding")


@pytest.mark.parametrize("declared", ["UTF-8", "utf-8", "us-ascii", "ISO-8859-1"])
def test_ascii_compatible_declarations_are_read_as_written(declared):
    assert decide("memo.docx", document("<w:r><w:t>Hello</w:t></w:r>", declared=declared)).reason is Reason.CLEAN
    assert decide("memo.docx", document(DDE_FIELD, declared=declared)).reason is Reason.OFFICE_DDE


def test_a_part_split_anywhere_reads_the_same():
    """The transcoding is incremental: chunks cut inside a UTF-16 code unit or pair give the same UTF-8."""
    text = '<?xml version="1.0" encoding="UTF-16"?><w:t>Grüße 😀 DDEAUTO</w:t>' * 40
    data = b"\xff\xfe" + text.encode("utf-16-le")
    for size in (1, 3, 255, 257, 4096):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert b"".join(office_content.as_utf8(chunks)) == "\ufeff".encode() + text.encode()


@settings(max_examples=30, deadline=None)
@given(
    words=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=40),
    dde=st.booleans(),
    encoding=st.sampled_from(sorted(UTF16)),
)
def test_the_verdict_does_not_depend_on_the_encoding(words, dde, encoding):
    from xml.sax.saxutils import escape

    body = f"<w:r><w:t>{escape(words)}</w:t></w:r>" + (DDE_FIELD if dde else "")
    codec, bom = UTF16[encoding]
    utf8 = decide("memo.docx", document(body, declared="UTF-8")).reason
    assert decide("memo.docx", document(body, codec, bom)).reason is utf8


def test_without_the_transcoding_the_utf16_field_passed(monkeypatch):
    """The finding, reproduced by switching the transcoding off."""
    monkeypatch.setattr(office_content, "as_utf8", lambda chunks: chunks)
    assert decide("memo.docx", document(DDE_FIELD, "utf-16-le", b"\xff\xfe")).reason is Reason.CLEAN
