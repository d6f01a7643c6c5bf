import io
import struct
import zipfile

import pytest

from chalicelib.scanning.reasons import Reason
from tests.scanning import files
from tests.scanning.helpers import decide

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_clean_office_documents_are_approved(kind):
    assert decide(f"report.{kind}", files.ooxml(kind)).reason is Reason.CLEAN


def test_stored_members_are_read_too():
    assert decide("a.docx", files.ooxml("docx", compression=zipfile.ZIP_STORED)).reason is Reason.CLEAN


def test_macro_docm_renamed_docx_is_rejected():
    assert decide("invoice.docx", files.docm_renamed()).reason is Reason.OFFICE_MACROS


def test_macro_content_type_alone_is_enough():
    data = files.ooxml("docx", main_type="application/vnd.ms-word.document.macroEnabled.main+xml")
    assert decide("a.docx", data).reason is Reason.OFFICE_MACROS


def test_xlm_macro_sheet_in_xlsx_is_rejected():
    data = files.ooxml("xlsx", extra_parts={"xl/macrosheets/sheet1.xml": b"<xm/>"})
    assert decide("a.xlsx", data).reason is Reason.OFFICE_MACROS


def test_remote_template_is_rejected():
    assert decide("cv.docx", files.docx_remote_template()).reason is Reason.OFFICE_EXTERNAL_RELATIONSHIP


def test_entity_escaped_target_mode_is_still_external():
    rels = files.relationships((_REL + "/attachedTemplate", "https://x.example/t.dotm", "&#69;xternal"))
    data = files.ooxml("docx", extra_parts={"word/_rels/settings.xml.rels": rels.encode()})
    assert decide("a.docx", data).reason is Reason.OFFICE_EXTERNAL_RELATIONSHIP


def test_external_hyperlinks_are_allowed():
    data = files.ooxml("docx", part_rels=((_REL + "/hyperlink", "https://example.com", "External"),))
    assert decide("a.docx", data).reason is Reason.CLEAN


def test_activex_and_embedded_ole_objects_are_rejected():
    activex = files.ooxml("docx", extra_parts={"word/activeX/activeX1.bin": b"\x00" * 10})
    ole_object = files.ooxml("docx", extra_parts={"word/embeddings/oleObject1.bin": b"\x00" * 10})
    chart_workbook = files.ooxml(
        "docx", extra_parts={"word/embeddings/Microsoft_Excel_Worksheet.xlsx": files.ooxml("xlsx")}
    )
    assert decide("a.docx", activex).reason is Reason.OFFICE_ACTIVEX
    assert decide("a.docx", ole_object).reason is Reason.OFFICE_EMBEDDED_OBJECT
    assert decide("a.docx", chart_workbook).reason is Reason.CLEAN


def test_ole_object_relationship_is_rejected():
    data = files.ooxml("pptx", part_rels=((_REL + "/oleObject", "file:///c:/x.exe", "External"),))
    assert decide("a.pptx", data).reason is Reason.OFFICE_EMBEDDED_OBJECT


def test_wrong_office_kind_is_a_type_mismatch():
    assert decide("a.docx", files.ooxml("xlsx")).reason is Reason.TYPE_MISMATCH


def test_plain_zip_renamed_docx_is_an_archive():
    assert decide("a.docx", files.plain_zip()).reason is Reason.ARCHIVE


def test_dtd_in_an_office_part_is_rejected():
    bomb = b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><Types>&a;</Types>'
    buffer = io.BytesIO(files.ooxml("docx"))
    patched = files.replace_member(buffer.getvalue(), "[Content_Types].xml", bomb)
    assert decide("a.docx", patched).reason is Reason.OFFICE_MALFORMED


def test_zip_bomb_by_ratio_is_rejected():
    assert decide("q3.xlsx", files.zip_bomb_ratio()).reason is Reason.ZIP_RATIO


def test_zip_bomb_by_total_size_is_rejected():
    data = files.zip_bomb_ratio(megabytes=8)
    verdict = decide("q3.xlsx", data, SCAN_ZIP_MAX_UNCOMPRESSED_BYTES=str(4 * 1024 * 1024), SCAN_ZIP_MAX_RATIO="10000")
    assert verdict.reason is Reason.ZIP_TOO_LARGE_UNCOMPRESSED


def test_zip_bomb_by_entry_count_is_rejected_before_reading_the_directory():
    data = files.zip_bomb_entries(entries=20000)
    verdict = decide("q3.xlsx", data)
    assert verdict.reason is Reason.ZIP_TOO_MANY_ENTRIES


def test_overlapping_entries_are_rejected():
    data = bytearray(files.ooxml("docx"))
    # Point the second central-directory entry at the first local header: an overlap bomb's trick.
    first = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", first + 4)
    struct.pack_into("<I", data, second + 42, 0)
    assert decide("a.docx", bytes(data)).reason is Reason.ZIP_MALFORMED


def test_data_appended_after_the_zip_is_rejected():
    assert decide("a.docx", files.ooxml("docx") + b"MZ" + b"\x00" * 100).reason is Reason.ZIP_MALFORMED


def test_crc_mismatch_in_an_inspected_part_is_rejected():
    data = bytearray(files.ooxml("docx", compression=zipfile.ZIP_STORED))
    at = data.find(b"<Types")
    data[at + 1] = ord("X")
    assert decide("a.docx", bytes(data)).reason is Reason.ZIP_MALFORMED


def test_encrypted_zip_entries_are_rejected():
    data = bytearray(files.ooxml("docx"))
    at = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, at + 8, data[at + 8] | 1)
    assert decide("a.docx", bytes(data)).reason is Reason.ZIP_ENCRYPTED


def test_alt_chunk_import_is_rejected():
    data = files.ooxml(
        "docx", part_rels=((_REL + "/aFChunk", "afchunk.rtf", None),), extra_parts={"word/afchunk.rtf": b"{\\rtf1}"}
    )
    assert decide("a.docx", data).reason is Reason.OFFICE_EMBEDDED_OBJECT
