"""The antivirus port: an engine that sees the whole object and raises `Rejected` unless it is clean.

`SCAN_ANTIVIRUS` picks the engine (docs/scanner.md#engines): `off` (structure checks only), `clamav`
(clamav.py, a warm clamd fed over INSTREAM) or `guardduty` (guardduty.py, GuardDuty Malware Protection
for S3's object tag). The engine is one check among the others: its `clean` never approves a file that
a structure check rejects.
"""

from __future__ import annotations

from typing import Protocol

from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.source import ByteSource


class Antivirus(Protocol):
    name: str
    runs_last: bool  # True: its verdict arrives on its own (GuardDuty), so it is asked after the other checks

    def check(self, source: ByteSource, deadline: Deadline, bucket: str, key: str, version: str | None) -> None:
        """Return when the engine found the object clean; raise `Rejected` otherwise (fail closed)."""
