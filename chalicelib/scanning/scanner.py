"""Use case: a FILE_SCANNER event -> APPROVED or REJECTED, with one decision log line.

Order of checks, cheapest first: the event's shape, extension and size; the object's real size
(from the opening ranged GET of its first bytes); its true type from the first bytes and its tail; the
structure check for that type, which reads only what it needs. An antivirus engine that reads the bytes
(clamd: the whole object streamed) runs beside the type and structure checks, and its rejection wins, so
a known malware is named as such whatever else is wrong with the file. An engine whose verdict arrives on
its own (GuardDuty's object tag) is asked last, which gives it the other checks' time. Any exception, AWS error or missed
deadline is a rejection: Connect deletes a rejected file, so failing closed loses nothing that
cannot be sent again, while failing open could deliver malware to an agent.

The work runs in a worker thread so that a call stuck on the network cannot hold the answer past
the deadline; the worker only reads, so abandoning it is harmless.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib import logs
from chalicelib.scanning import event as scan_event
from chalicelib.scanning.antivirus import Antivirus
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.filetypes import EXTENSION_KINDS, Kind, is_polyglot, sniff
from chalicelib.scanning.inspectors import INSPECTORS, Inspection
from chalicelib.scanning.moderation import Moderator
from chalicelib.scanning.reasons import Reason, Rejected, Verdict
from chalicelib.scanning.source import ByteSource, Prefetched, head_and_tail

if TYPE_CHECKING:
    from chalicelib.scanning.event import ScanRequest
    from chalicelib.settings import ScannerSettings, SettingsError

log = logs.get_logger("scanner")

HEAD_BYTES = 8 * 1024  # enough for every magic number and an image header
TAIL_BYTES = 8 * 1024  # where a zip's end record hides in a polyglot
_REJECTED_KINDS = {Kind.EXECUTABLE: Reason.EXECUTABLE, Kind.ARCHIVE: Reason.ARCHIVE}


@dataclass
class _Progress:
    """What the worker has learnt so far; read by the caller for the log line even after a timeout."""

    file_id: str | None = None
    instance_id: str | None = None
    extension: str | None = None
    declared_bytes: int | None = None
    object_bytes: int | None = None
    detected_type: str | None = None
    source: Any = None


class AttachmentScanner:
    def __init__(
        self,
        settings: ScannerSettings,
        open_object: Callable[[str, str, Deadline], ByteSource],  # bucket, key -> opened source (S3Object)
        moderator: Moderator | None,  # None: moderation disabled
        antivirus: Antivirus | None = None,  # None: SCAN_ANTIVIRUS=off
    ):
        self._settings = settings
        self._open_object = open_object
        self._moderator = moderator
        self._antivirus = antivirus

    def decide(self, raw_event: Any, deadline: Deadline) -> Verdict:
        timer = logs.Timer()
        progress = _Progress()
        outcome: list[Verdict] = []

        def work() -> None:
            outcome.append(self._decide_safely(raw_event, deadline, progress))

        worker = threading.Thread(target=work, name="attachment-scan", daemon=True)
        worker.start()
        worker.join(max(deadline.remaining(), 0.0))
        verdict = outcome[0] if outcome else Verdict(Reason.DEADLINE_EXCEEDED, progress.detected_type)
        _log_decision(verdict, progress, timer)
        return verdict

    def _decide_safely(self, raw_event: Any, deadline: Deadline, progress: _Progress) -> Verdict:
        try:
            return self._decide(raw_event, deadline, progress)
        except Rejected as rejected:
            return Verdict(rejected.reason, progress.detected_type, rejected.detail)
        except Exception as exc:  # fail closed, by code only: messages can quote the file
            from chalicelib.aws import error_code

            return Verdict(Reason.INTERNAL_ERROR, progress.detected_type, error_code(exc))

    def _decide(self, raw_event: Any, deadline: Deadline, progress: _Progress) -> Verdict:
        deadline.check()
        request = self._admit(scan_event.parse(raw_event), progress)
        opened = self._open(request, deadline, progress)
        head, tail = head_and_tail(opened, HEAD_BYTES, TAIL_BYTES)
        source = Prefetched(opened, head, tail)
        antivirus = self._antivirus
        streaming = None
        if antivirus is not None and not getattr(antivirus, "runs_last", False):
            streaming = _Concurrent(
                lambda: antivirus.check(source, deadline, request.bucket, request.key, source.version_id)
            )
        try:
            kind = self._true_type(request.extension, head, tail, progress)
            job = Inspection(
                source=source,
                kind=kind,
                extension=request.extension,
                head=head,
                settings=self._settings,
                moderator=self._moderator,
                bucket=request.bucket,
                key=request.key,
                version=source.version_id,
            )
            reason = INSPECTORS[kind](job)
        finally:
            if streaming is not None:
                streaming.result(deadline)  # its rejection (malware first) wins over the structure check's
        if antivirus is not None and getattr(antivirus, "runs_last", False):
            antivirus.check(source, deadline, request.bucket, request.key, source.version_id)
        deadline.check()  # a verdict reached after the deadline was not heard by Connect anyway
        return Verdict(reason, kind.value)

    def _admit(self, request: ScanRequest, progress: _Progress) -> ScanRequest:
        """What the event alone decides: extension and declared size."""
        progress.file_id, progress.instance_id = request.file_id, request.instance_id
        progress.declared_bytes = request.declared_size
        progress.extension = request.extension if request.extension in EXTENSION_KINDS else "other"
        if request.extension not in self._settings.allowed_extensions:
            raise Rejected(Reason.EXTENSION_NOT_ALLOWED)
        if request.declared_size > self._settings.max_bytes:
            raise Rejected(Reason.FILE_TOO_LARGE)
        return request

    def _open(self, request: ScanRequest, deadline: Deadline, progress: _Progress) -> ByteSource:
        """The object, whose real size must be the declared one."""
        source = self._open_object(request.bucket, request.key, deadline)
        progress.source, progress.object_bytes = source, source.size
        if source.size != request.declared_size:
            raise Rejected(Reason.SIZE_MISMATCH)
        if source.size > self._settings.max_bytes:
            raise Rejected(Reason.FILE_TOO_LARGE)
        if source.size == 0:
            raise Rejected(Reason.FILE_EMPTY)
        return source

    @staticmethod
    def _true_type(extension: str, head: bytes, tail: bytes, progress: _Progress) -> Kind:
        """The type the bytes say, which must be one the extension allows, and only that."""
        kind = sniff(head)
        progress.detected_type = kind.value
        if kind in _REJECTED_KINDS:
            raise Rejected(_REJECTED_KINDS[kind])
        if kind not in EXTENSION_KINDS[extension]:
            raise Rejected(Reason.TYPE_UNKNOWN if kind is Kind.UNKNOWN else Reason.TYPE_MISMATCH)
        if is_polyglot(kind, head, tail):
            raise Rejected(Reason.POLYGLOT)
        return kind


class _Concurrent:
    """The engine's whole-object stream runs beside the structure checks (each has its own ranged GET), so a
    large file costs the longer of the two, not their sum. Only reads: abandoning it at the deadline is harmless."""

    def __init__(self, work: Callable[[], None]):
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name="antivirus-stream", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # handed to the deciding thread, which fails closed on it
            self._error = exc

    def result(self, deadline: Deadline) -> None:
        self._thread.join(max(deadline.remaining(), 0.0))
        if self._thread.is_alive():
            raise Rejected(Reason.DEADLINE_EXCEEDED, "Antivirus")
        if self._error is not None:
            raise self._error


def _log_safe(detail: str | None) -> str | None:
    # Category names have spaces and '&' ("Drugs & Tobacco"), which the log sanitiser would blank out.
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", detail)[:64] if detail else None


def _log_decision(verdict: Verdict, progress: _Progress, timer: logs.Timer) -> None:
    source = progress.source
    logs.log_event(
        log,
        "scan_decision",
        logging.INFO if verdict.approved else logging.WARNING,
        file_id=progress.file_id,
        instance_id=progress.instance_id,
        status=verdict.status,
        reason=verdict.reason.value,
        detail=_log_safe(verdict.detail),
        extension=progress.extension,
        declared_bytes=progress.declared_bytes,
        object_bytes=progress.object_bytes,
        detected_type=verdict.detected_type or progress.detected_type,
        bytes_read=getattr(source, "bytes_read", 0),
        s3_requests=getattr(source, "requests", 0),
        elapsed_ms=timer.ms,
    )


def reject_internal(error: Exception) -> dict:
    """The answer when building the scanner failed: fail closed at once (not after Connect's retries)."""
    from chalicelib.aws import error_code

    verdict = Verdict(Reason.INTERNAL_ERROR, detail=error_code(error))
    _log_decision(verdict, _Progress(), logs.Timer())
    return verdict.response()


def reject_unconfigured(error: SettingsError) -> dict:
    """The answer when the scanner's own settings are invalid: fail closed; log the variable's name."""
    verdict = Verdict(Reason.SETTINGS_INVALID, detail=error.variable)
    _log_decision(verdict, _Progress(), logs.Timer())
    return verdict.response()
