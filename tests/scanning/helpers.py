"""Shared test helpers: FILE_SCANNER events, settings, and a scanner over in-memory bytes."""

from __future__ import annotations

from chalicelib import settings
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.scanner import AttachmentScanner
from chalicelib.scanning.source import MemorySource

BUCKET = "connect-attachments-test"
FILE_ID = "0f7c2a44-5b1e-4c1e-9d7e-2a0b8c9d0e1f"


def key_for(name: str) -> str:
    return f"connect/inst/Attachments/chat/2026/11/20/{FILE_ID}_20261120T22:41_UTC.{name.rsplit('.', 1)[-1]}"


def event(name: str, size: int, key: str | None = None, bucket: str = BUCKET) -> dict:
    key = key or key_for(name)
    return {
        "Version": "1.0",
        "InstanceId": "11111111-2222-3333-4444-555555555555",
        "File": {
            "FileId": FILE_ID,
            "FileCreationTime": 1763678463582,
            "FileName": name,
            "FileSizeInBytes": size,
            "FileLocation": {"S3Location": {"Key": key, "Bucket": bucket, "Arn": f"arn:aws:s3:::{bucket}/{key}"}},
        },
    }


def scanner_settings(**env: str) -> settings.ScannerSettings:
    return settings.ScannerSettings.parse(settings._Reader(env))


def decide(name: str, data: bytes, moderator=None, antivirus=None, **env: str):
    """The verdict for `data` uploaded as `name`, read from memory (no S3)."""
    env.setdefault("MODERATION_ENABLED", "false" if moderator is None else "true")
    source = MemorySource(data)
    scanner = AttachmentScanner(scanner_settings(**env), lambda bucket, key, deadline: source, moderator, antivirus)
    return scanner.decide(event(name, len(data)), Deadline.after(30))


class FakeModerator:
    """Stands in for RekognitionModerator where the test is about something else."""

    def __init__(self, category: str | None = None):
        self.category = category
        self.calls: list[tuple] = []

    def moderate(self, bucket, key, version=None):
        from chalicelib.scanning.moderation import ModerationResult

        self.calls.append((bucket, key, version))
        return ModerationResult(self.category, "7.0")
