"""GuardDuty Malware Protection for S3 as the antivirus engine (`SCAN_ANTIVIRUS=guardduty`).

A protection plan on the attachments prefix (infra/template.yaml, created when this engine is chosen)
scans every new object and, with tagging enabled, writes the verdict as the object tag
`GuardDutyMalwareScanStatus` (docs/reference/malware-engines.md#guardduty): `NO_THREATS_FOUND`,
`THREATS_FOUND`, `UNSUPPORTED`, `ACCESS_DENIED` or `FAILED`. GuardDuty gives no latency guarantee, so
the scanner polls the tag within its own deadline: only `NO_THREATS_FOUND` lets the other checks decide;
anything else, or no tag in time, is a rejection (fail closed). The tag carries no threat name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.source import ByteSource

TAG = "GuardDutyMalwareScanStatus"
CLEAN = "NO_THREATS_FOUND"
# GetObjectTagging is cheap (one small request); back off to 1 s so a slow scan costs ~1 call/s.
POLL_DELAYS = (0.25, 0.5, 0.75, 1.0)
_REASONS = {"THREATS_FOUND": Reason.MALWARE, "UNSUPPORTED": Reason.ANTIVIRUS_UNSUPPORTED}


class GuardDutyEngine:
    name = "guardduty"
    runs_last = True  # GuardDuty scans on its own since the upload: the other checks' time is not lost

    def __init__(self, s3: Callable[[], Any], sleep: Callable[[float], None] = time.sleep):
        self._s3 = s3
        self._sleep = sleep
        self.polls = 0

    def check(self, source: ByteSource, deadline: Deadline, bucket: str, key: str, version: str | None) -> None:
        attempt = 0
        while True:
            status = self._status(bucket, key, version, deadline)
            if status == CLEAN:
                return
            if status is not None:
                # Known values map to their codes; an unknown value is still not a clean verdict.
                raise Rejected(_REASONS.get(status, Reason.ANTIVIRUS_ERROR), _safe(status))
            wait = min(POLL_DELAYS[min(attempt, len(POLL_DELAYS) - 1)], deadline.remaining() - 0.05)
            if wait <= 0:
                raise Rejected(Reason.ANTIVIRUS_PENDING, TAG)
            self._sleep(wait)
            attempt += 1

    def _status(self, bucket: str, key: str, version: str | None, deadline: Deadline) -> str | None:
        deadline.check()
        params = {"Bucket": bucket, "Key": key}
        if version:
            params["VersionId"] = version
        self.polls += 1
        try:
            response = self._s3().get_object_tagging(**params)
        except Exception as exc:
            from chalicelib.aws import error_code

            raise Rejected(Reason.S3_ERROR, error_code(exc)) from None
        for tag in response.get("TagSet", []):
            if tag.get("Key") == TAG:
                return str(tag.get("Value", ""))
        return None


def _safe(status: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in status)[:64] or "empty"
