"""Amazon Comprehend `DetectPiiEntities` adapter (docs/reference/comprehend.md).

- Offsets are Unicode code points, `EndOffset` exclusive: exactly Python's `text[begin:end]`. (The AWS
  sample applied them to UTF-16 strings, so an emoji before a card number shifted the mask and leaked
  digits; Python strings index code points, and the tests pin it with emoji and non-BMP characters.)
- The API takes at most 100 KB of UTF-8 per call and has no batch form: longer text is cut into chunks
  at whitespace, overlapping so an entity on a boundary is seen whole by one chunk.
- Billing is per 100 characters with a 300-character minimum per call, so text that cannot contain the
  requested types (no letters or digits; or no digits when only digit-bearing types are asked for) is
  never sent.
- Errors raise `ComprehendError` carrying the AWS error code only, never the text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.logs import log_event
from chalicelib.redaction.detectors import Detection

log = logging.getLogger("connect_guard.redaction.comprehend")

MAX_REQUEST_BYTES = 100_000
_OVERLAP_CHARS = 200  # longer than any entity we redact (an IBAN is 34 characters, an AWS secret 40)
# Types Comprehend can only find in text that has digits; the rest (PASSWORD, NAME, ...) can be letters only.
DIGIT_TYPES = frozenset(
    {
        "BANK_ACCOUNT_NUMBER",
        "BANK_ROUTING",
        "CREDIT_DEBIT_CVV",
        "CREDIT_DEBIT_EXPIRY",
        "CREDIT_DEBIT_NUMBER",
        "PIN",
        "SSN",
        "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
        "CA_SOCIAL_INSURANCE_NUMBER",
        "CA_HEALTH_NUMBER",
        "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
        "UK_NATIONAL_INSURANCE_NUMBER",
        "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
        "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
        "PASSPORT_NUMBER",
        "DRIVER_ID",
        "IP_ADDRESS",
        "PHONE",
        "IN_AADHAAR",
        "IN_NREGA",
        "IN_PERMANENT_ACCOUNT_NUMBER",
        "IN_VOTER_NUMBER",
        "AWS_ACCESS_KEY",
        "AGE",
        "AWS_SECRET_KEY",  # 40 random base64 characters without a digit: about 3 keys in 10,000
    }
)
# A password is only findable where someone says so.
_PASSWORD_WORDS = ("pass", "pwd", "contrase", "clave")


class ComprehendError(RuntimeError):
    """A DetectPiiEntities call failed. The message is the AWS error code, never the text."""

    def __init__(self, code: str, transient: bool):
        super().__init__(code)
        self.code = code
        self.transient = transient


class ComprehendPii:
    """Finds PII with Comprehend; the boto3 client is built on the first call that needs it."""

    def __init__(
        self,
        client_factory: Callable[[], Any],
        language: str,
        min_score: float,
        entity_types: Iterable[str],
        max_bytes: int = MAX_REQUEST_BYTES,
    ):
        self._client_factory = client_factory
        self._client: Any = None
        self.language = language
        self.min_score = min_score
        self.entity_types = frozenset(entity_types)
        self.max_bytes = max_bytes

    def worth_checking(self, text: str) -> bool:
        """False when Comprehend could not find a requested type here: the call would be billed for nothing."""
        if not self.entity_types or not any(ch.isalnum() for ch in text):
            return False
        if any(ch.isdigit() for ch in text):
            return True
        letter_types = self.entity_types - DIGIT_TYPES
        if letter_types == {"PASSWORD"}:
            lowered = text.lower()
            return any(word in lowered for word in _PASSWORD_WORDS)
        return bool(letter_types)

    def detect(self, text: str) -> list[Detection]:
        if not self.worth_checking(text):
            return []
        found: list[Detection] = []
        for offset, chunk in chunks(text, self.max_bytes):
            for entity in self._call(chunk):
                kind = entity.get("Type")
                score = float(entity.get("Score", 0.0))
                begin, end = entity.get("BeginOffset"), entity.get("EndOffset")
                if kind not in self.entity_types or score < self.min_score:
                    continue
                if not isinstance(begin, int) or not isinstance(end, int) or not 0 <= begin < end <= len(chunk):
                    continue  # never trust an offset outside the text we sent
                found.append(Detection(kind, offset + begin, offset + end, score))
        return found

    def _call(self, chunk: str) -> list[dict]:
        from botocore.exceptions import BotoCoreError, ClientError

        from chalicelib import aws

        if self._client is None:
            self._client = self._client_factory()
        try:
            response = self._client.detect_pii_entities(Text=chunk, LanguageCode=self.language)
        except (ClientError, BotoCoreError) as exc:
            code = aws.error_code(exc)
            log_event(log, "comprehend_failed", error=code, length=len(chunk))
            raise ComprehendError(code, aws.is_transient(exc)) from None
        return response.get("Entities") or []


def chunks(text: str, max_bytes: int = MAX_REQUEST_BYTES) -> list[tuple[int, str]]:
    """(offset, chunk) pieces of at most `max_bytes` UTF-8 bytes, cut at whitespace, overlapping.

    Offsets are code-point indexes into `text`, so chunk offsets add straight onto Comprehend's.
    """
    if len(text.encode("utf-8")) <= max_bytes:
        return [(0, text)]
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = _fit(text, start, max_bytes)
        if end < len(text):
            cut = text.rfind(" ", max(start + 1, end - _OVERLAP_CHARS), end)
            if cut > start:
                end = cut
        pieces.append((start, text[start:end]))
        if end >= len(text):
            break
        start = max(start + 1, end - _OVERLAP_CHARS)
        space = text.find(" ", start, end)
        if space != -1:
            start = space + 1  # begin on a word, so the overlap never starts mid-number
    return pieces


def _fit(text: str, start: int, max_bytes: int) -> int:
    """The largest end such that text[start:end] fits in max_bytes of UTF-8."""
    used = 0
    end = start
    # Walk in blocks: encoding one character at a time is slow on 100 KB texts.
    while end < len(text):
        block = text[end : end + 1024]
        size = len(block.encode("utf-8"))
        if used + size <= max_bytes:
            used += size
            end += len(block)
            continue
        for char in block:
            width = len(char.encode("utf-8"))
            if used + width > max_bytes:
                return end
            used += width
            end += 1
        return end
    return end
