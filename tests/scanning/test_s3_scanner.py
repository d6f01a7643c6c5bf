"""The use case over real ranged reads against moto S3."""

from __future__ import annotations

import pytest

from chalicelib import aws
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.reasons import Reason
from chalicelib.scanning.s3_object import S3Object
from chalicelib.scanning.scanner import AttachmentScanner
from chalicelib.scanning.wiring import build
from tests.scanning import files
from tests.scanning.helpers import BUCKET, FakeModerator, event, key_for, scanner_settings


class Recorder:
    """Opens S3Objects like production and keeps them, to look at bytes read and requests made."""

    def __init__(self):
        self.opened: list[S3Object] = []

    def __call__(self, bucket, key, deadline):
        obj = S3Object(aws.client("s3"), bucket, key, deadline).open(8192)
        self.opened.append(obj)
        return obj


def scan(s3, name, data, *, moderator=None, size=None, upload=True, **env):
    key = key_for(name)
    if upload:
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    env.setdefault("MODERATION_ENABLED", "true")
    recorder = Recorder()
    scanner = AttachmentScanner(scanner_settings(**env), recorder, moderator or FakeModerator(None))
    verdict = scanner.decide(event(name, len(data) if size is None else size, key), Deadline.after(30))
    return verdict, (recorder.opened[0] if recorder.opened else None)


@pytest.mark.parametrize("extension", sorted(files.SAMPLES))
def test_clean_files_of_every_type_are_approved(s3, extension):
    verdict, obj = scan(s3, f"file.{extension}", files.SAMPLES[extension](), SCAN_UNSUPPORTED_IMAGES="allow")
    assert verdict.approved, verdict
    assert obj.requests <= 2 and obj.bytes_read == obj.size  # tiny files: every byte read once


def test_images_are_judged_from_a_small_read_and_moderated_in_place(s3):
    big_png = files.png(600, 600, noisy=True)  # ~350 KiB of IDAT
    moderator = FakeModerator(None)
    verdict, obj = scan(s3, "photo.png", big_png, moderator=moderator)
    assert verdict.reason is Reason.CLEAN
    assert obj.bytes_read <= 64 * 1024 < len(big_png)
    assert moderator.calls == [(BUCKET, key_for("photo.png"), None)]


def test_office_package_is_judged_without_downloading_it(s3):
    data = files.ooxml("xlsx", extra_parts={"xl/media/image1.png": files.noise(1024 * 1024)})
    verdict, obj = scan(s3, "q3.xlsx", data)
    assert verdict.reason is Reason.CLEAN
    assert obj.bytes_read < len(data) / 4


def test_parts_in_the_middle_of_a_package_cost_one_small_read(s3):
    import io
    import zipfile

    base = zipfile.ZipFile(io.BytesIO(files.ooxml("docx")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/media/image1.png", files.noise(512 * 1024, seed=1))
        for info in base.infolist():  # content types and relationships between two pictures
            package.writestr(info.filename, base.read(info.filename))
        package.writestr("word/media/image2.png", files.noise(512 * 1024, seed=2))
    verdict, obj = scan(s3, "a.docx", buffer.getvalue())
    assert verdict.reason is Reason.CLEAN
    assert obj.requests == 3 and obj.bytes_read < 32 * 1024


def test_renamed_executable_is_rejected(s3):
    assert scan(s3, "invoice.pdf", files.windows_exe())[0].reason is Reason.EXECUTABLE


def test_extension_not_allowed_is_rejected_without_reading(s3):
    verdict, obj = scan(s3, "tool.exe", files.windows_exe())
    assert verdict.reason is Reason.EXTENSION_NOT_ALLOWED and obj is None
    verdict, _ = scan(s3, "notes.txt", files.txt(), SCAN_ALLOWED_EXTENSIONS="pdf,png")
    assert verdict.reason is Reason.EXTENSION_NOT_ALLOWED


def test_file_without_extension_is_rejected(s3):
    assert scan(s3, "README", files.txt())[0].reason is Reason.EXTENSION_NOT_ALLOWED
    assert scan(s3, ".txt", files.txt())[0].reason is Reason.EXTENSION_NOT_ALLOWED


def test_oversize_is_rejected_from_the_event_and_from_the_object(s3):
    data = files.txt() * 100
    verdict, obj = scan(s3, "big.txt", data, SCAN_MAX_BYTES="1000")
    assert verdict.reason is Reason.FILE_TOO_LARGE and obj is None


def test_size_in_event_disagreeing_with_s3_is_rejected(s3):
    data = files.pdf()
    assert scan(s3, "a.pdf", data, size=len(data) - 1)[0].reason is Reason.SIZE_MISMATCH
    assert scan(s3, "a.pdf", data, size=10)[0].reason is Reason.SIZE_MISMATCH


def test_missing_object_is_rejected(s3):
    verdict, _ = scan(s3, "gone.pdf", files.pdf(), upload=False)
    assert (verdict.reason, verdict.detail) == (Reason.OBJECT_MISSING, "NoSuchKey")


def test_missing_bucket_is_rejected(s3):
    key = key_for("a.pdf")
    scanner = AttachmentScanner(scanner_settings(), Recorder(), None)
    verdict = scanner.decide(event("a.pdf", 10, key, bucket="no-such-bucket"), Deadline.after(30))
    assert verdict.reason in (Reason.OBJECT_MISSING, Reason.S3_ERROR)


def test_empty_file_is_rejected(s3):
    assert scan(s3, "empty.txt", b"")[0].reason is Reason.FILE_EMPTY


def test_object_replaced_between_reads_is_rejected(s3):
    key = key_for("a.pdf")
    padding = "(" + "x" * 20000 + ")"
    s3.put_object(Bucket=BUCKET, Key=key, Body=files.pdf(padding))
    obj = S3Object(aws.client("s3"), BUCKET, key, Deadline.after(30)).open(8192)
    assert obj.read(0, 10) == b"%PDF-1.7\n%"  # served from the opening read
    s3.put_object(Bucket=BUCKET, Key=key, Body=files.pdf(padding + "/Names << /JavaScript 9 0 R >>"))
    from chalicelib.scanning.reasons import Rejected

    with pytest.raises(Rejected) as caught:
        obj.read(10000, 10)
    assert caught.value.reason is Reason.OBJECT_CHANGED
    with pytest.raises(Rejected):
        list(obj.stream())


def test_s3_errors_fail_closed(s3):
    def broken(bucket, key, deadline):
        raise RuntimeError("connection reset while reading secret-name.pdf")

    scanner = AttachmentScanner(scanner_settings(), broken, None)
    verdict = scanner.decide(event("a.pdf", 10), Deadline.after(30))
    assert (verdict.reason, verdict.detail) == (Reason.INTERNAL_ERROR, "RuntimeError")


def test_production_wiring_reads_from_s3(s3):
    data = files.pdf()
    key = key_for("a.pdf")
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    verdict = build(scanner_settings()).decide(event("a.pdf", len(data), key), Deadline.after(30))
    assert verdict.reason is Reason.CLEAN
