"""DDE without macros: Word field instructions and Excel formulas in the document body."""

import pytest

from chalicelib.scanning.reasons import Reason
from tests.scanning import files
from tests.scanning.helpers import decide

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def word(body: str) -> bytes:
    return files.ooxml(
        "docx",
        main_body=f'<?xml version="1.0"?><w:document {W}><w:body><w:p>{body}</w:p></w:body></w:document>'.encode(),
    )


def field(*instructions: str, result: str = "x") -> str:
    runs = "".join(f'<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>' for text in instructions)
    return (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        + runs
        + '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        + f"<w:r><w:t>{result}</w:t></w:r>"
        + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


@pytest.mark.parametrize(
    "body",
    [
        field(' DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe" '),
        field(" DD", "EAUTO c:\\\\x.exe"),  # split across runs
        field(" &#68;DE c:\\\\x.exe"),  # character reference
        '<w:fldSimple w:instr=" DDE c:\\\\x.exe x"><w:r><w:t>x</w:t></w:r></w:fldSimple>',
        field(" IF 1 = 1 ", result="y") + field(" ddeauto c:\\\\x.exe"),
    ],
)
def test_dde_fields_are_rejected(body):
    assert decide("memo.docx", word(body)).reason is Reason.OFFICE_DDE


def test_dde_in_a_header_part_is_rejected():
    header = f'<?xml version="1.0"?><w:hdr {W}><w:p>{field(" DDEAUTO c:\\\\x.exe")}</w:p></w:hdr>'.encode()
    assert (
        decide("memo.docx", files.ooxml("docx", extra_parts={"word/header1.xml": header})).reason is Reason.OFFICE_DDE
    )


def test_field_whose_type_is_computed_is_rejected():
    nested = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        + field(" QUOTE 68 68 69 ")
        + '<w:r><w:instrText> c:\\\\x.exe</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    verdict = decide("memo.docx", word(nested))
    assert (verdict.reason, verdict.detail) == (Reason.OFFICE_DDE, "ComputedField")


def test_ordinary_fields_are_fine():
    body = field(" PAGE ") + field(' HYPERLINK "https://hidden.example/added" ') + field(" IF ", ' 1 = 1 "a" "b"')
    assert decide("memo.docx", word(body)).reason is Reason.CLEAN


def sheet(formula: str) -> dict:
    xml = f'<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1"><f>{formula}</f><v>0</v></c></row></sheetData></worksheet>'
    return {"xl/worksheets/sheet1.xml": xml.encode()}


@pytest.mark.parametrize(
    "formula", ["cmd|' /C calc'!A0", "MSEXCEL|'\\..\\..\\Windows\\System32\\cmd.exe /c calc'!''", "SUM(1)+cmd|'x'!A0"]
)
def test_dde_formulas_are_rejected(formula):
    verdict = decide("q3.xlsx", files.ooxml("xlsx", extra_parts=sheet(formula)))
    assert (verdict.reason, verdict.detail) == (Reason.OFFICE_DDE, "Formula")


def test_pipes_inside_strings_are_fine():
    formula = 'CONCAT(A2,&quot;|&quot;,B2)&amp;"a|b"'
    assert decide("q3.xlsx", files.ooxml("xlsx", extra_parts=sheet(formula))).reason is Reason.CLEAN


def test_external_workbook_links_are_rejected():
    parts = {
        "xl/externalLinks/externalLink1.xml": b'<externalLink><ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>'
    }
    assert decide("q3.xlsx", files.ooxml("xlsx", extra_parts=parts)).reason is Reason.OFFICE_EXTERNAL_RELATIONSHIP


@pytest.mark.parametrize(
    "name, reason",
    [
        ("word/media/payload.exe", Reason.OFFICE_EMBEDDED_OBJECT),
        ("customXml/item.js", Reason.OFFICE_EMBEDDED_OBJECT),
        ("word/stuff/inner.xlsm", Reason.OFFICE_MACROS),
    ],
)
def test_programs_and_macro_packages_anywhere_are_rejected(name, reason):
    assert decide("a.docx", files.ooxml("docx", extra_parts={name: b"MZ"})).reason is reason


def test_large_sheet_is_streamed_and_searched():
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 60000))
    late_dde = '<row r="60000"><c r="A60000"><f>cmd|\'/c calc\'!A0</f></c></row>'
    xml = f"<worksheet><sheetData>{rows}{late_dde}</sheetData></worksheet>".encode()
    verdict = decide("q3.xlsx", files.ooxml("xlsx", extra_parts={"xl/worksheets/sheet1.xml": xml}))
    assert verdict.reason is Reason.OFFICE_DDE


def test_formula_split_by_a_read_window_is_still_judged():
    head = '<worksheet><sheetData><row r="1"><c r="A1"><v>'
    formula = "<f>cmd|'/c calc'!A0</f>"
    target = 1024 * 1024 - 64 * 1024 - 4  # the first window hands over at 1 MiB - 64 KiB, inside `<f>cmd|`
    filler = "1" * (target - len(head) - len('</v></c><c r="B1">'))
    xml = f'{head}{filler}</v></c><c r="B1">{formula}</c></row>' + "<row/>" * 200000 + "</sheetData></worksheet>"
    assert xml.index("<f>") == target
    package = files.ooxml("xlsx", extra_parts={"xl/worksheets/sheet1.xml": xml.encode()})
    verdict = decide("q3.xlsx", package, SCAN_ZIP_MAX_RATIO="10000")  # the filler compresses extremely well
    assert verdict.reason is Reason.OFFICE_DDE
