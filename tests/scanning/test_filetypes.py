import pytest

from chalicelib.scanning.filetypes import EXTENSION_KINDS, Kind, is_polyglot, looks_like_text, sniff
from tests.scanning import files


@pytest.mark.parametrize(
    "data, kind",
    [
        (files.png(), Kind.PNG),
        (files.jpeg(), Kind.JPEG),
        (files.heic(), Kind.HEIC),
        (files.pdf(), Kind.PDF),
        (files.ooxml("docx"), Kind.ZIP),
        (files.doc(), Kind.OLE),
        (files.rtf(), Kind.RTF),
        (b"{\\rtvpn garbage}", Kind.RTF),  # Word opens anything starting {\rt
        (files.wav(), Kind.WAV),
        (files.mp4(), Kind.MP4),
        (files.mov(), Kind.MOV),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00isom", Kind.MP4),  # audio only: still an .mp4
        (files.txt(), Kind.TEXT),
        (b"\xff\xfe" + "héllo\r\n".encode("utf-16-le"), Kind.TEXT),
        (files.windows_exe(), Kind.EXECUTABLE),
        (files.elf(), Kind.EXECUTABLE),
        (files.shell_script(), Kind.EXECUTABLE),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02", Kind.EXECUTABLE),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, Kind.ARCHIVE),
        (b"Rar!\x1a\x07\x01\x00", Kind.ARCHIVE),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", Kind.ARCHIVE),
        (b"\x00" * 257 + b"ustar\x0000", Kind.ARCHIVE),
        (b"RIFF\x10\x00\x00\x00AVI LIST", Kind.UNKNOWN),
        (b"\x00\x01\x02\x03binary", Kind.UNKNOWN),
    ],
)
def test_sniff_finds_the_true_type(data, kind):
    assert sniff(data[:8192]) is kind


def test_every_connect_default_extension_is_known():
    from chalicelib.settings import DEFAULT_SCAN_EXTENSIONS

    assert set(DEFAULT_SCAN_EXTENSIONS.split(",")) == set(EXTENSION_KINDS)


def test_text_detection_rejects_control_bytes_and_accepts_8bit_encodings():
    assert looks_like_text("Café; 12,50 €".encode("cp1252"))
    assert not looks_like_text(b"abc\x00def")
    assert not looks_like_text(b"abc\x07def")


def test_polyglots():
    assert is_polyglot(Kind.JPEG, files.jpeg(), files.jpeg_zip_polyglot()[-8192:])
    assert is_polyglot(Kind.PNG, files.png()[:100] + b"%PDF-1.4", b"")
    assert not is_polyglot(Kind.PDF, files.pdf(), files.pdf()[-8192:])
    assert not is_polyglot(Kind.JPEG, files.jpeg(), files.jpeg())
