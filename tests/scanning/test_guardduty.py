"""GuardDuty Malware Protection for S3 as the engine: the scanner waits, within its deadline, for the
`GuardDutyMalwareScanStatus` tag (moto S3 tagging; the waits are counted, not timed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib import aws
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.guardduty import TAG, GuardDutyEngine
from chalicelib.scanning.reasons import Reason
from chalicelib.scanning.s3_object import S3Object
from chalicelib.scanning.scanner import AttachmentScanner
from chalicelib.scanning.source import MemorySource
from chalicelib.scanning.wiring import antivirus_for
from tests.scanning import files
from tests.scanning.helpers import BUCKET, event, key_for, scanner_settings


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class TaggedWhileWaiting(GuardDutyEngine):
    """The engine, with GuardDuty tagging the object once it has polled `after_polls` times."""

    def __init__(self, sleep: Callable[[float], None], tag_object: Callable[[], None], after_polls: int):
        super().__init__(lambda: aws.client("s3"), sleep=sleep)
        self._tag_object, self._after_polls = tag_object, after_polls

    def _status(self, bucket: str, key: str, version: str | None, deadline: Deadline) -> str | None:
        if self.polls == self._after_polls:
            self._tag_object()
        return super()._status(bucket, key, version, deadline)


def scan(s3, name, data, *, tag=None, tag_after_polls=0, budget=10.0, **env):
    key = key_for(name)
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    clock = FakeClock()

    def tag_object():
        s3.put_object_tagging(Bucket=BUCKET, Key=key, Tagging={"TagSet": [{"Key": TAG, "Value": tag}]})

    engine = GuardDutyEngine(lambda: aws.client("s3"), sleep=clock.sleep)
    if tag is not None and tag_after_polls == 0:
        tag_object()
    elif tag is not None:  # GuardDuty tags the object while we wait
        engine = TaggedWhileWaiting(clock.sleep, tag_object, tag_after_polls)
    deadline = Deadline(budget, clock)

    def open_object(bucket, key, _deadline):
        return S3Object(aws.client("s3"), bucket, key, deadline).open(8192)

    scanner = AttachmentScanner(scanner_settings(MODERATION_ENABLED="false", **env), open_object, None, engine)
    # The worker thread waits on the real clock for at most the deadline; the engine's own waits use the fake one.
    verdict = scanner._decide_safely(event(name, len(data), key), deadline, _progress())
    return verdict, engine


def _progress():
    from chalicelib.scanning.scanner import _Progress

    return _Progress()


def test_no_threats_found_lets_the_other_checks_decide(s3):
    verdict, engine = scan(s3, "notes.txt", files.txt(), tag="NO_THREATS_FOUND")
    assert verdict.approved and engine.polls == 1
    verdict, _ = scan(s3, "sheet.csv", files.csv("a,b", "=1+1,2"), tag="NO_THREATS_FOUND")
    assert verdict.reason is Reason.CSV_FORMULA  # the engine's "clean" never overrides a structure check


def test_the_tag_is_awaited_within_the_deadline(s3):
    verdict, engine = scan(s3, "notes.txt", files.txt(), tag="NO_THREATS_FOUND", tag_after_polls=3)
    assert verdict.approved and engine.polls == 4


@pytest.mark.parametrize(
    "status, reason",
    [
        ("THREATS_FOUND", Reason.MALWARE),
        ("UNSUPPORTED", Reason.ANTIVIRUS_UNSUPPORTED),
        ("ACCESS_DENIED", Reason.ANTIVIRUS_ERROR),
        ("FAILED", Reason.ANTIVIRUS_ERROR),
        ("SOMETHING_NEW", Reason.ANTIVIRUS_ERROR),
    ],
)
def test_anything_but_no_threats_found_is_rejected(s3, status, reason):
    verdict, _ = scan(s3, "notes.txt", files.txt(), tag=status)
    assert verdict.status == "REJECTED" and verdict.reason is reason


def test_no_tag_in_time_is_rejected(s3):
    verdict, engine = scan(s3, "notes.txt", files.txt(), budget=5.0)
    assert verdict.reason is Reason.ANTIVIRUS_PENDING
    assert 5 <= engine.polls <= 12  # backs off to one poll a second


def test_a_tagging_error_is_rejected(s3):
    engine = GuardDutyEngine(lambda: aws.client("s3"), sleep=lambda _: None)
    with pytest.raises(Exception) as caught:  # GuardDuty never reads the bytes: an empty source will do
        engine.check(MemorySource(b""), Deadline.after(5), BUCKET, "missing-key", None)
    assert getattr(caught.value, "reason", None) is Reason.S3_ERROR


def test_settings_choose_the_engine():
    assert antivirus_for(scanner_settings()) is None
    guardduty = antivirus_for(scanner_settings(SCAN_ANTIVIRUS="guardduty"))
    assert guardduty is not None and guardduty.name == "guardduty"
    engine = antivirus_for(scanner_settings(SCAN_ANTIVIRUS="clamav", SCAN_CLAMAV_ADDRESS="127.0.0.1:3310"))
    assert engine is not None and engine.name == "clamav"
