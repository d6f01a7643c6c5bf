"""True file types from bytes, whatever the name or the declared type says."""

import io
import zipfile

from chalicelib.messaging import file_sniffing as sniffing


def sniff(data: bytes):
    return sniffing.sniff(io.BytesIO(data))


def _zip(*names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def test_images_documents_and_media_by_signature():
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 20) == sniffing.JPEG
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\0" * 20) == sniffing.PNG
    assert sniff(b"%PDF-1.7\n...") == sniffing.PDF
    assert sniff(b"{\\rtf1\\ansi hello}") == sniffing.RTF
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") == sniffing.WAV
    assert sniff(b"\x00\x00\x00\x18ftypmp42\x00\x00") == sniffing.MP4
    assert sniff(b"\x00\x00\x00\x18ftypM4A \x00\x00") == sniffing.MP4_AUDIO
    assert sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00") == sniffing.MOV
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00") == sniffing.HEIC


def test_office_open_xml_by_its_parts_and_plain_zips_refused():
    assert sniff(_zip("[Content_Types].xml", "word/document.xml")) == sniffing.DOCX
    assert sniff(_zip("[Content_Types].xml", "xl/workbook.xml")) == sniffing.XLSX
    assert sniff(_zip("[Content_Types].xml", "ppt/presentation.xml")) == sniffing.PPTX
    assert sniff(_zip("payload.exe")) is None
    assert sniff(b"PK\x03\x04 truncated") is None


def test_legacy_office_by_its_main_stream_name_anywhere_in_the_file():
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    far = b"\x01" * (1024 * 1024 + 5)  # the directory lies past the first chunk
    assert sniff(header + far + "WordDocument".encode("utf-16-le")) == sniffing.DOC
    assert sniff(header + "Workbook".encode("utf-16-le")) == sniffing.XLS
    assert sniff(header + "PowerPoint Document".encode("utf-16-le")) == sniffing.PPT
    assert sniff(header) is None


def test_text_and_binary_junk():
    assert sniff("name,amount\nJane,5 €\n".encode()) == sniffing.TXT
    assert sniff(b"GIF89a\x01\x00\x01\x00\x00\xff") is None  # GIF: not on Connect's list
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00") is None  # a Windows executable
    assert sniff(b"") is None


def test_position_is_left_at_the_start():
    file = io.BytesIO(b"%PDF-1.4 body")
    file.seek(5)
    sniffing.sniff(file)
    assert file.tell() == 0
