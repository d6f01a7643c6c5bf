"""Hypothesis: hostile bytes under every allowed extension never break the scanner, and are approved
only when they really are that type (judged by an oracle independent of the scanner's sniffer)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.scanning.reasons import Reason
from tests.scanning import files
from tests.scanning.helpers import FakeModerator, decide

EXTENSIONS = sorted(files.SAMPLES)
_MAGIC = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "jfif": (b"\xff\xd8\xff",),
    "pdf": (b"%PDF-",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "pptx": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "ppt": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "rtf": (b"{\\rt",),
}
_NOT_TEXT = set(range(32)) - {9, 10, 11, 12, 13, 26, 27}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def really_is(extension: str, data: bytes) -> bool:
    if extension in ("txt", "csv"):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return True
        return not _NOT_TEXT.intersection(data) and not data.startswith(b"#!")
    if extension == "wav":
        return data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    if extension in ("mp4", "mov", "heic"):
        return data[4:8] == b"ftyp"
    return data.startswith(_MAGIC[extension])


def judge(extension: str, data: bytes) -> None:
    verdict = decide(f"upload.{extension}", data, FakeModerator(None), SCAN_UNSUPPORTED_IMAGES="allow")
    assert verdict.reason is not Reason.INTERNAL_ERROR, verdict.detail
    if verdict.approved:
        assert really_is(extension, data)


@FUZZ
@given(st.sampled_from(EXTENSIONS), st.binary(min_size=1, max_size=4096))
def test_random_bytes(extension, data):
    judge(extension, data)


@FUZZ
@given(st.sampled_from(EXTENSIONS), st.binary(min_size=1, max_size=2048))
def test_right_magic_random_body(extension, body):
    prefix = files.SAMPLES[extension]()[:16]
    judge(extension, prefix + body)


# Richer structures than the plain samples, so mutations reach object streams, fields and BIFF records.
STRUCTURED = sorted(files.SAMPLES.items()) + [
    ("pdf", lambda: files.pdf_with_object_stream("/PageMode /UseNone")),
    ("xls", lambda: files.xls(sheet_type=0x01)),
    ("docx", lambda: files.ooxml("docx", main_body=b'<w:document><w:fldSimple w:instr=" PAGE "/></w:document>')),
    ("xlsx", lambda: files.ooxml("xlsx", extra_parts={"xl/worksheets/sheet1.xml": b'<f>SUM(A1)&amp;"|"</f>'})),
    ("rtf", lambda: files.rtf(r"{\field{\*\fldinst PAGE}{\fldrslt 1}}")),
]


@FUZZ
@given(st.sampled_from(STRUCTURED), st.data())
def test_mutated_valid_files(sample, data):
    extension, build = sample
    original = bytearray(build())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(original)))
    judge(extension, bytes(original[:cut]))
