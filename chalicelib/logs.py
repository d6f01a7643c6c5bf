"""Structured JSON logs that cannot carry PII, message text, tokens or secrets.

Every line is one JSON object: `{"level", "logger", "event", ...fields}`. Callers log *events* with
fields, never free text: `log_event(log, "message_forwarded", contact_id=..., length=12)`.

The rules, enforced here rather than trusted to each caller:
- the event name must be a short identifier;
- numbers, booleans and None pass as they are;
- a string passes only if it looks like an id or a reason code (no spaces, <= 128 chars) and holds no
  run of 7+ digits (separators ignored) or e-mail address unless it is a UUID (a card number, SSN, phone or PIN-like value never fits an id we
  log); anything else is replaced by its length: `"<redacted:len=42>"`;
- exceptions are logged by `error_code(exc)` (AWS code or class name), never `str(exc)` or a traceback.

Written on the stdlib: aws-lambda-powertools' Logger would add ~11 ms of import to every cold start, even
after boto3 (CPU time, `import boto3` first; aws-lambda-powertools 3.37), for features (sampling,
correlation paths) we do not use, while the rules above would still be ours to write.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_ROOT = "connect_guard"
_SAFE_STRING = re.compile(r"^[A-Za-z0-9_.:@/+=#-]{0,128}$")
# 7+ digits, even broken up by separators: 4111-1111-..., 123-45-6789, +1 (555) 123-4567.
_LONG_DIGIT_RUN = re.compile(r"\d(?:[ .\-+/()]*\d){6,}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
# Connect contact ids, file ids and key ids are UUIDs: a digit run inside one is not a PAN or an SSN.
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_configured = False


def safe_value(value: Any) -> Any:
    """The value as it may appear in a log line."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if _SAFE_STRING.match(value) and (
            _UUID.match(value) or not (_LONG_DIGIT_RUN.search(value) or _EMAIL.search(value))
        ):
            return value
        return f"<redacted:len={len(value)}>"
    if isinstance(value, (list, tuple, set, frozenset)):
        return [safe_value(item) for item in list(value)[:20]]
    if isinstance(value, dict):
        return {str(safe_value(str(k))): safe_value(v) for k, v in list(value.items())[:20]}
    return f"<redacted:{type(value).__name__}>"


class JsonFormatter(logging.Formatter):
    """One JSON object per record. Free-text messages of third-party loggers are reduced to their length."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "cg_fields", None)
        if fields is not None:
            event = record.msg
        else:
            # Not ours (botocore, urllib3, the Encryption SDK, ...): their text may quote payloads.
            event = "library_log"
            fields = {"source": record.name, "length": len(record.getMessage())}
            if record.exc_info and record.exc_info[0] is not None:
                fields["error"] = record.exc_info[0].__name__
        line = {"level": record.levelname, "logger": record.name, "event": event, "ts": round(record.created, 3)}
        line.update(fields)
        return json.dumps(line, separators=(",", ":"), default=str)


class _StdStreamHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout (or sys.stderr) is at emit time (test runners swap them)."""

    to_stderr = False

    @property
    def stream(self) -> Any:
        return sys.stderr if self.to_stderr else sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_handler = _StdStreamHandler()
_handler.setFormatter(JsonFormatter())


def configure(level: str = "INFO", to_stderr: bool = False) -> None:
    """Install the JSON formatter on the root logger once per process (idempotent).

    Lambdas log to stdout (CloudWatch); command-line tools pass `to_stderr` to keep stdout for results.
    """
    global _configured
    root = logging.getLogger()
    _handler.to_stderr = to_stderr
    if not _configured:
        handler = _handler
        # Lambda's runtime pre-installs a plain-text handler; ours replaces it so every line is safe JSON.
        for existing in list(root.handlers):
            root.removeHandler(existing)
        root.addHandler(handler)
        for noisy in ("botocore", "boto3", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        # The Encryption SDK logs a traceback on every failed decrypt ("Error on closing"): never wanted.
        logging.getLogger("aws_encryption_sdk").setLevel(logging.CRITICAL)
        _configured = True
    project = logging.getLogger(_ROOT)
    if logging.getLevelName(project.level) != level:  # setLevel clears every logger's cache: only on change
        project.setLevel(level)


def take_over(logger: logging.Logger) -> None:
    """Give `logger` our sanitising JSON handler in place of its own (Chalice puts a plain-text handler on
    `app.log`, which would print an escaped exception's message and traceback as free text)."""
    for existing in list(logger.handlers):
        logger.removeHandler(existing)
    logger.addHandler(_handler)
    logger.propagate = False


def get_logger(name: str) -> logging.Logger:
    """A logger under the project's namespace (`connect_guard.<name>`)."""
    return logging.getLogger(f"{_ROOT}.{name}")


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log a named event with sanitised fields. Never pass message text; pass lengths and ids."""
    if not logger.isEnabledFor(level):
        return
    if not _EVENT_NAME.match(event):
        raise ValueError("log event names are short lowercase identifiers")
    clean = {key: safe_value(value) for key, value in fields.items() if _EVENT_NAME.match(key)}
    logger.log(level, event, extra={"cg_fields": clean})


def log_error(logger: logging.Logger, event: str, exc: BaseException, **fields: Any) -> None:
    """Log a failure by its code only: exception messages can quote request data."""
    from chalicelib.aws import error_code

    log_event(logger, event, logging.ERROR, error=error_code(exc), **fields)


class Timer:
    """Milliseconds since construction, for `elapsed_ms=` fields."""

    __slots__ = ("_start",)

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def ms(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 3)
