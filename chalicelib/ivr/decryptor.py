"""Use case: a contact-flow request -> the flat result map the flow reads as `$.External`.

Order of work, cheapest first, so hostile input never costs an RSA operation or a key load:
presence -> length cap -> strict base64 -> header shape (suite, one `AmazonConnect` key) -> key by id
(cached; one refresh on an unknown id) -> decrypt and verify (one RSA-4096 decrypt, one P-384 verify)
-> the digits check. Every failure becomes a reason code; nothing raises out of `handle`, and the
ciphertext, the digits and exception messages never reach a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalicelib import logs
from chalicelib.ivr.envelope import ConnectEnvelope, Rejected, open_envelope
from chalicelib.ivr.keys import KeyStore, KeyUnavailable, UnknownKey
from chalicelib.ivr.request import IvrRequest
from chalicelib.ivr.result import Reason, failure, is_valid_value, success

_log = logs.get_logger("ivr")

# (message, key id, private key) -> plaintext bytes; raises on any authentication or format failure.
DecryptFn = Callable[[bytes, str, Any], bytes]


def sdk_decrypt(message: bytes, key_id: str, private_key: Any) -> bytes:
    from chalicelib.ivr import esdk  # the Encryption SDK (and boto3) load here, never on `import app`

    return esdk.decrypt(message, key_id, private_key)


class Decryptor:
    """Decrypts Connect's encrypted customer input with keys from a `KeyStore`."""

    def __init__(
        self, keys: KeyStore, *, max_ciphertext_chars: int, return_value: bool, decrypt: DecryptFn = sdk_decrypt
    ):
        self._keys = keys
        self._max_chars = max_ciphertext_chars
        self._return_value = return_value
        self._decrypt = decrypt

    def handle(self, request: IvrRequest) -> dict[str, str]:
        timer = logs.Timer()
        fields: dict[str, Any] = {"contact_id": request.contact_id}
        try:
            if request.ciphertext is None:
                raise Rejected(Reason.MISSING_INPUT)
            fields["input_length"] = len(request.ciphertext)
            envelope = open_envelope(request.ciphertext, self._max_chars)
            fields["key_id"] = envelope.key_id
            value = self._decrypt_value(envelope, fields)
        except Rejected as rejected:
            logs.log_event(
                _log, "ivr_rejected", logging.WARNING, reason=rejected.reason.value, elapsed_ms=timer.ms, **fields
            )
            return failure(rejected.reason)
        logs.log_event(_log, "ivr_decrypted", length=len(value), elapsed_ms=timer.ms, **fields)
        return success(value, self._return_value)

    def _decrypt_value(self, envelope: ConnectEnvelope, fields: dict[str, Any]) -> str:
        try:
            private_key = self._keys.private_key(envelope.key_id)
        except UnknownKey:
            raise Rejected(Reason.UNKNOWN_KEY) from None
        except KeyUnavailable as exc:
            fields["error"] = exc.code
            raise Rejected(Reason.KEY_UNAVAILABLE) from None
        try:
            plaintext = self._decrypt(envelope.message, envelope.key_id, private_key)
        except Exception as exc:  # InvalidTag, InvalidSignature, SDK errors: all mean "not authentic"
            fields["error"] = type(exc).__name__
            raise Rejected(Reason.DECRYPT_FAILED) from None
        value = plaintext.decode("ascii", errors="replace")
        if not is_valid_value(value):
            raise Rejected(Reason.INVALID_VALUE)
        return value


def handle_event(event: Any, decryptor: Callable[[], Decryptor]) -> dict[str, str]:
    """The entry point's whole job: event -> result map, never an exception (`decryptor` builds or returns
    the container's decryptor: ivr/wiring.py)."""
    try:
        return decryptor().handle(IvrRequest.from_event(event))
    except Exception as exc:  # a bug: the flow still gets a documented result, the log gets the class name
        logs.log_error(_log, "ivr_internal_error", exc)
        return failure(Reason.INTERNAL_ERROR)
