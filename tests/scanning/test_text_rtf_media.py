import pytest

from chalicelib.scanning.reasons import Reason
from tests.scanning import files
from tests.scanning.helpers import decide


def test_clean_text_and_csv_are_approved():
    assert decide("notes.txt", files.txt()).reason is Reason.CLEAN
    assert decide("orders.csv", files.csv()).reason is Reason.CLEAN


def test_utf16_text_with_bom_is_approved():
    data = b"\xff\xfe" + "name;amount\r\nZoë;12\r\n".encode("utf-16-le")
    assert decide("a.csv", data).reason is Reason.CLEAN


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "=cmd|' /C calc'!A0",
        "@SUM(1,1)",
        '+HYPERLINK("http://x.example")',
        "-2+3+cmd|' /C calc'!A0",
        '"=HYPERLINK(""x"")"',
        "  =1",
        "\t=1",
    ],
)
def test_csv_formula_cells_are_rejected(cell):
    assert decide("a.csv", files.csv("name,value", f"x,{cell}")).reason is Reason.CSV_FORMULA


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_formula_after_any_common_separator_is_found(separator):
    assert decide("a.csv", files.csv(f"a{separator}=1+1")).reason is Reason.CSV_FORMULA


def test_formula_at_file_start_even_after_a_bom():
    assert decide("a.csv", b"\xef\xbb\xbf=1+1,2\r\n").reason is Reason.CSV_FORMULA
    assert decide("a.csv", b"\xff\xfe" + "=1+1\r\n".encode("utf-16-le")).reason is Reason.CSV_FORMULA


def test_numbers_with_signs_are_not_formulas():
    assert decide("a.csv", files.csv("a,b", "-12.5,+3", "1e-3,-", "+1 555 0100,x")).reason is Reason.CLEAN


def test_csv_formula_policy_can_allow():
    data = files.csv("a,b", "x,=1+1")
    assert decide("a.csv", data, SCAN_CSV_FORMULAS="allow").reason is Reason.CLEAN
    assert decide("a.txt", data).reason is Reason.CLEAN  # formulas matter only to spreadsheets


def test_binary_after_a_text_start_is_rejected():
    data = files.txt() * 2000 + b"\x00\x01\x02" + files.txt()
    assert decide("a.txt", data).reason is Reason.TEXT_BINARY


def test_rtf_clean_is_approved():
    assert decide("a.rtf", files.rtf()).reason is Reason.CLEAN


@pytest.mark.parametrize(
    "body",
    [r"{\object\objemb{\*\objdata 01050000}}", r"{\*\objdata 0105}", r"{\object\objautlink\objupdate}", r"{\objocx x}"],
)
def test_rtf_objects_are_rejected(body):
    assert decide("a.rtf", files.rtf(body)).reason is Reason.RTF_OBJECT


def test_rtf_dde_field_is_rejected():
    body = r"{\field{\*\fldinst DDEAUTO c:\\windows\\system32\\cmd.exe \"/k calc\"}}"
    assert decide("a.rtf", files.rtf(body)).reason is Reason.RTF_FIELD_CODE


def test_rtf_words_that_only_start_with_object_are_fine():
    assert decide("a.rtf", files.rtf(r"\objectivity")).reason is Reason.CLEAN


def test_media_files_are_approved():
    assert decide("a.wav", files.wav()).reason is Reason.CLEAN
    assert decide("a.mp4", files.mp4()).reason is Reason.CLEAN
    assert decide("a.mov", files.mov()).reason is Reason.CLEAN
    assert decide("a.mov", files.mp4()).reason is Reason.CLEAN


def test_media_type_mismatch_and_broken_headers_are_rejected():
    assert decide("a.mp4", files.mov()).reason is Reason.TYPE_MISMATCH
    broken_wav = files.wav()[:4] + b"\xff\xff\xff\x7f" + files.wav()[8:]
    assert decide("a.wav", broken_wav).reason is Reason.MEDIA_MALFORMED
    broken_mp4 = b"\x00\x00\xff\xff" + files.mp4()[4:]
    assert decide("a.mp4", broken_mp4).reason is Reason.MEDIA_MALFORMED


def test_rtf_dde_split_across_groups_and_control_words_is_rejected():
    body = r"{\field{\*\fldinst {D}{\b DE}{AUTO} c:\\windows\\system32\\cmd.exe}{\fldrslt x}}"
    assert decide("a.rtf", files.rtf(body)).reason is Reason.RTF_FIELD_CODE


def test_rtf_ordinary_fields_are_fine():
    body = (
        r"{\field{\*\fldinst { PAGE }}{\fldrslt 1}} {\field{\*\fldinst HYPERLINK "
        "https://example.com"
        "}{\fldrslt x}}"
    )
    assert decide("a.rtf", files.rtf(body)).reason is Reason.CLEAN


def test_csv_formula_far_from_its_leading_sign_is_found():
    cell = "-" + "1" * 40000 + "+cmd|' /C calc'!A0"
    data = files.csv("a,b", "x," + "y" * (1024 * 1024 - 200) + ",z", "x," + cell)
    assert decide("a.csv", data).reason is Reason.CSV_FORMULA


def test_an_escaped_backslash_before_a_control_word_name_is_text():
    # The RTF specification itself writes `\\object` (an escaped backslash, then the word) as text.
    assert decide("spec.rtf", files.rtf(r"\pard The \\object control word\par")).reason is Reason.CLEAN
    assert decide("spec.rtf", files.rtf(r"\pard \\\object")).reason is Reason.RTF_OBJECT  # odd run: a control word
    assert decide("spec.rtf", files.rtf("\\pard " + "\\" * 20001 + "object")).reason is Reason.RTF_OBJECT


def test_sylk_presented_as_csv_is_rejected():
    sylk = b'ID;PWXL;N;E\r\nC;Y1;X1;K0;EEXEC("calc.exe")\r\nE\r\n'
    assert decide("data.csv", sylk).reason is Reason.CSV_FORMULA
    assert decide("data.csv", b"ID,name\r\n1,Ana\r\n").reason is Reason.CLEAN  # a CSV whose first column is ID
