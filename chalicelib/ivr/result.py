"""What the contact flow reads as `$.External.<key>`: a flat map of short strings.

Connect wants a flat string map whose values are alphanumerics, `-` and `_` (docs/reference/ivr-encryption.md), so
every value here is a code, a count, `true`/`false` or digits. A flow branches on `Status`, `Reason`,
`Length`, `LuhnValid` and `Last4` without touching the digits; `Value` is left out when the
deployment hands the digits off another way (`IVR_RETURN_VALUE=false`).
"""

from __future__ import annotations

from enum import StrEnum

from chalicelib.redaction.checksums import luhn_ok

MAX_VALUE_LENGTH = 64  # Connect collects at most a few dozen DTMF digits
LAST4_MIN_LENGTH = 10  # shorter values (PINs, dates) are never echoed back, even in part


class Reason(StrEnum):
    """Why a decryption did not succeed. Stable codes: contact flows branch on them."""

    MISSING_INPUT = "MISSING_INPUT"  # the event carries no ciphertext
    TOO_LARGE = "TOO_LARGE"  # longer than IVR_MAX_CIPHERTEXT_CHARS
    MALFORMED = "MALFORMED"  # not strict base64, or not an Encryption SDK message
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"  # an SDK message, but not Connect's shape (suite, key count, provider)
    UNKNOWN_KEY = "UNKNOWN_KEY"  # names a Connect key id we do not hold, even after a refresh
    KEY_UNAVAILABLE = "KEY_UNAVAILABLE"  # SSM failed or denied, or the stored key is not a usable RSA key
    DECRYPT_FAILED = "DECRYPT_FAILED"  # authentication failed: tampered, truncated or made for another key
    INVALID_VALUE = "INVALID_VALUE"  # decrypted, but not 1-64 digits
    MISCONFIGURED = "MISCONFIGURED"  # an IVR_* setting is invalid (the log names it)
    INTERNAL_ERROR = "INTERNAL_ERROR"  # a bug: the log has the error class and the contact id


def failure(reason: Reason) -> dict[str, str]:
    return {"Status": "ERROR", "Reason": reason.value}


def success(value: str, include_value: bool) -> dict[str, str]:
    """The result for decrypted digits (already checked by `is_valid_value`)."""
    result = {"Status": "OK", "Length": str(len(value)), "LuhnValid": "true" if luhn_ok(value) else "false"}
    if len(value) >= LAST4_MIN_LENGTH:
        result["Last4"] = value[-4:]
    if include_value:
        result["Value"] = value
    return result


def is_valid_value(value: str) -> bool:
    """Only ASCII digits come out of a DTMF entry; anything else was not made by a contact flow."""
    return 0 < len(value) <= MAX_VALUE_LENGTH and value.isascii() and value.isdigit()
