"""Composition: the attachment scanner over S3, Rekognition and the antivirus engine SCAN_ANTIVIRUS names,
built from the scanner settings. Imports the scanner when it first builds one, never on `import app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.scanning.antivirus import Antivirus
    from chalicelib.scanning.deadline import Deadline
    from chalicelib.scanning.s3_object import S3Object
    from chalicelib.scanning.scanner import AttachmentScanner
    from chalicelib.settings import ScannerSettings


def build(settings: ScannerSettings) -> AttachmentScanner:
    """The scanner wired to S3 and Rekognition through the shared lazy clients."""
    from chalicelib import aws
    from chalicelib.scanning.moderation import ModerationPolicy, RekognitionModerator
    from chalicelib.scanning.s3_object import S3Object
    from chalicelib.scanning.scanner import HEAD_BYTES, AttachmentScanner

    def open_object(bucket: str, key: str, deadline: Deadline) -> S3Object:
        return S3Object(aws.client("s3"), bucket, key, deadline).open(HEAD_BYTES)

    policy = ModerationPolicy.from_pairs(settings.moderation_categories)
    moderator = None
    if settings.moderation_enabled and policy.thresholds:
        moderator = RekognitionModerator(lambda: aws.client("rekognition"), policy)
    return AttachmentScanner(settings, open_object, moderator, antivirus_for(settings))


def antivirus_for(settings: ScannerSettings) -> Antivirus | None:
    """The engine SCAN_ANTIVIRUS names (docs/scanner.md#engines), built without any network call."""
    if settings.antivirus == "clamav" and settings.clamav_address:
        from chalicelib.scanning.clamav import Address, ClamavEngine, ClamdClient

        return ClamavEngine(ClamdClient(Address.parse(settings.clamav_address)))
    if settings.antivirus == "guardduty":
        from chalicelib import aws
        from chalicelib.scanning.guardduty import GuardDutyEngine

        return GuardDutyEngine(lambda: aws.client("s3"))
    return None
