from chalicelib.scanning.reasons import Reason
from tests.scanning import files
from tests.scanning.helpers import decide


def test_clean_legacy_office_files_are_approved():
    assert decide("a.doc", files.doc()).reason is Reason.CLEAN
    assert decide("a.xls", files.xls()).reason is Reason.CLEAN
    assert decide("a.ppt", files.ppt()).reason is Reason.CLEAN


def test_vba_macros_are_rejected():
    assert decide("a.doc", files.doc(macros=True)).reason is Reason.OFFICE_MACROS
    assert decide("a.xls", files.xls(vba=True)).reason is Reason.OFFICE_MACROS
    verdict = decide("a.ppt", files.ppt(vba=True))
    assert (verdict.reason, verdict.detail) == (Reason.OFFICE_MACROS, "PptVba")


def test_excel4_macro_sheet_is_rejected():
    verdict = decide("a.xls", files.xls(sheet_type=0x01))
    assert (verdict.reason, verdict.detail) == (Reason.OFFICE_MACROS, "Xlm")


def test_embedded_objects_are_rejected():
    assert decide("a.doc", files.doc(objects=True)).reason is Reason.OFFICE_EMBEDDED_OBJECT


def test_password_protected_workbook_is_rejected():
    assert decide("a.xls", files.xls(encrypted=True)).reason is Reason.OFFICE_ENCRYPTED


def test_wrong_legacy_kind_is_a_type_mismatch():
    assert decide("a.doc", files.xls()).reason is Reason.TYPE_MISMATCH
    assert decide("a.ppt", files.doc()).reason is Reason.TYPE_MISMATCH


def test_encrypted_ooxml_package_is_not_a_doc():
    assert decide("a.doc", files.encrypted_ooxml()).reason is Reason.OFFICE_ENCRYPTED
    assert decide("a.docx", files.encrypted_ooxml()).reason is Reason.OFFICE_ENCRYPTED
    assert decide("a.docx", files.doc()).reason is Reason.TYPE_MISMATCH
    assert decide("a.xlsx", files.xls(vba=True)).reason is Reason.OFFICE_MACROS


def test_truncated_compound_file_is_malformed():
    assert decide("a.doc", files.doc()[:700]).reason is Reason.OFFICE_MALFORMED


def test_word97_dde_fields_are_rejected():
    eight_bit = b'Hello \x13 DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc" \x14x\x15'
    wide = "\x13 ddeauto c:\\x.exe \x14x\x15".encode("utf-16-le")
    assert decide("a.doc", files.doc(text=eight_bit)).reason is Reason.OFFICE_DDE
    assert decide("a.doc", files.doc(text=wide)).reason is Reason.OFFICE_DDE
    assert decide("a.doc", files.doc(text=b"\x13 PAGE \x141\x15 hidden added")).reason is Reason.CLEAN
