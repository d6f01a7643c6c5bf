"""The cheap checks every ciphertext passes before any RSA work.

Amazon Connect's *Store customer input* produces one exact shape (docs/reference/ivr-encryption.md): base64 of an AWS
Encryption SDK message, format v1, suite 0x0378 (AES-256-GCM, HKDF-SHA384, ECDSA P-384 signature),
framed with 4096-byte frames, and exactly one encrypted data key whose provider id is `AmazonConnect`
and whose key info is the Connect key id. Anything else is refused here, in microseconds and without
importing the Encryption SDK, so garbage never costs an RSA operation or a key load.

The header is read with `struct` rather than the SDK's `deserialize_header`: that one is an internal
API, needs the SDK (and boto3) imported, and would accept shapes we refuse anyway. A test checks both
parsers agree on real and generated messages.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

from chalicelib.ivr.result import Reason

CONNECT_PROVIDER_ID = b"AmazonConnect"
CONNECT_SUITE = 0x0378  # AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
FORMAT_V1 = 0x01
TYPE_CUSTOMER_AUTHENTICATED = 0x80
CONTENT_FRAMED = 0x02
GCM_IV_LENGTH = 12
MAX_FRAME_LENGTH = 4096  # what Connect uses; also the SDK's max_body_length
_KEY_ID_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


class Rejected(ValueError):
    """The input is not a Connect ciphertext we will decrypt. `reason` is a result code, never data."""

    def __init__(self, reason: Reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ConnectEnvelope:
    """A ciphertext that has the exact shape Connect produces, and the Connect key id it names."""

    message: bytes
    key_id: str


def open_envelope(text: str, max_chars: int) -> ConnectEnvelope:
    """Decode and check a `$.StoredCustomerInput` value. Raises `Rejected` with a reason code."""
    return check_header(decode_base64(text, max_chars))


def decode_base64(text: str, max_chars: int) -> bytes:
    """Strict, canonical base64 of bounded length (the length is checked before any decoding)."""
    if len(text) > max_chars:
        raise Rejected(Reason.TOO_LARGE)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII text
        raise Rejected(Reason.MALFORMED) from None
    # validate=True still accepts non-zero padding bits; a canonical round trip rejects those too.
    if not raw or base64.b64encode(raw).decode("ascii") != text:
        raise Rejected(Reason.MALFORMED)
    return raw


def check_header(message: bytes) -> ConnectEnvelope:
    """Read the message header and insist on Connect's exact shape."""
    reader = _Reader(message)
    version, message_type = reader.unpack(">BB")
    if version != FORMAT_V1:  # v2 is the key-committing suites, which Connect does not produce
        raise Rejected(Reason.UNSUPPORTED_FORMAT)
    if message_type != TYPE_CUSTOMER_AUTHENTICATED:
        raise Rejected(Reason.MALFORMED)
    (suite,) = reader.unpack(">H")
    if suite != CONNECT_SUITE:
        raise Rejected(Reason.UNSUPPORTED_FORMAT)
    reader.skip(16)  # message id
    (context_length,) = reader.unpack(">H")
    reader.skip(context_length)  # encryption context: the SDK checks it against the signature
    (key_count,) = reader.unpack(">H")
    if key_count != 1:
        raise Rejected(Reason.UNSUPPORTED_FORMAT)
    provider_id = reader.field()
    key_info = reader.field()
    reader.field()  # the RSA-wrapped data key
    content_type, reserved, iv_length, frame_length = reader.unpack(">BIBI")
    if provider_id != CONNECT_PROVIDER_ID:
        raise Rejected(Reason.UNSUPPORTED_FORMAT)
    if reserved != 0 or iv_length != GCM_IV_LENGTH:
        raise Rejected(Reason.MALFORMED)
    if content_type != CONTENT_FRAMED or not 0 < frame_length <= MAX_FRAME_LENGTH:
        raise Rejected(Reason.UNSUPPORTED_FORMAT)
    if not 0 < len(key_info) <= 128 or not set(key_info) <= _KEY_ID_CHARS:
        raise Rejected(Reason.UNKNOWN_KEY)  # Connect key ids are GUIDs; this one cannot be ours
    return ConnectEnvelope(message=message, key_id=key_info.decode("ascii"))


class _Reader:
    """Bounds-checked reads over the message bytes; running out of bytes is MALFORMED."""

    __slots__ = ("_data", "_offset")

    def __init__(self, data: bytes):
        self._data = data
        self._offset = 0

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        self._need(size)
        values = struct.unpack_from(fmt, self._data, self._offset)
        self._offset += size
        return values

    def skip(self, size: int) -> None:
        self._need(size)
        self._offset += size

    def field(self) -> bytes:
        """A 2-byte length followed by that many bytes."""
        (size,) = self.unpack(">H")
        self._need(size)
        value = self._data[self._offset : self._offset + size]
        self._offset += size
        return value

    def _need(self, size: int) -> None:
        if self._offset + size > len(self._data):
            raise Rejected(Reason.MALFORMED)
