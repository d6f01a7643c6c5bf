"""The AWS Encryption SDK set up exactly as Amazon Connect uses it, both ways (docs/reference/ivr-encryption.md).

Import this module lazily: it loads aws_encryption_sdk, which imports boto3 and cryptography (~270 ms on
its own, ~85 ms beyond boto3: CPU time, aws-encryption-sdk 4.0.7).
Only the IVR decryptor's invocation path, the operator CLI and tests import it — never `import app`.

- `decrypt(message, key_id, private_key)`: the plaintext of a Connect ciphertext (already checked by
  `envelope.check_header`), with a key that was parsed and validated once and is reused per call.
- `encrypt_like_connect(digits, public_key_pem, key_id)`: a ciphertext byte-for-byte in Connect's shape
  (suite 0x0378, 4096-byte frames, one `AmazonConnect` data key), for tests, the CLI and the sandbox.
"""

from __future__ import annotations

import base64
import io
import logging
from typing import TYPE_CHECKING

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy, EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey, RawMasterKeyProvider
from aws_encryption_sdk.materials_managers.default import DefaultCryptoMaterialsManager

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

# On every failure the SDK's streaming client also logs "Error on closing" with a traceback. The
# decryptor reports the failure itself, by reason code; nothing of the SDK's own logging is wanted.
logging.getLogger("aws_encryption_sdk").setLevel(logging.CRITICAL)

PROVIDER_ID = "AmazonConnect"  # case-sensitive: the SDK matches (provider id, key id) byte for byte
SUITE = Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384  # 0x0378: signed, not key-committing
FRAME_LENGTH = 4096
WRAPPING = WrappingAlgorithm.RSA_OAEP_SHA512_MGF1  # Java: RSA/ECB/OAEPWithSHA-512AndMGF1Padding

# Connect's suite is not key-committing, so decryption must allow it; one data key is all Connect writes.
_DECRYPT_CLIENT = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT, max_encrypted_data_keys=1
)
# REQUIRE_* policies refuse to encrypt with a non-committing suite; Connect's format needs one.
_ENCRYPT_CLIENT = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
)


class _ParsedRsaKey(WrappingKey):
    """A `WrappingKey` around a private key object that was parsed and validated once.

    `WrappingKey.__init__` only takes PEM and parses it again, validating the RSA key: ~250 ms per
    call, which is the whole cost of the published samples. The attributes set here are the ones its
    `decrypt` reads (aws-encryption-sdk 4.0.7, pinned); the real-vector test guards the coupling.
    """

    def __init__(self, private_key: RSAPrivateKey):  # pylint: disable=super-init-not-called
        self.wrapping_algorithm = WRAPPING
        self.wrapping_key_type = EncryptionKeyType.PRIVATE
        self._wrapping_key = private_key


class ConnectKeyProvider(RawMasterKeyProvider):
    """Amazon Connect's key namespace: provider id `AmazonConnect`, one member per Connect key id.

    `MasterKeyProvider.__new__` rejects constructor arguments, so keys are handed over with `bind`.
    """

    provider_id = PROVIDER_ID

    def bind(self, keys: dict[str, RSAPrivateKey]) -> ConnectKeyProvider:
        self._keys = keys
        for key_id in keys:
            self.add_master_key(key_id.encode("ascii"))
        return self

    def _get_raw_key(self, key_id: bytes) -> WrappingKey:
        return _ParsedRsaKey(self._keys[key_id.decode("ascii")])


# One materials manager per parsed key object, reused across invocations (building one costs ~40 µs).
_managers: dict[str, tuple[RSAPrivateKey, DefaultCryptoMaterialsManager]] = {}


def decrypt(message: bytes, key_id: str, private_key: RSAPrivateKey) -> bytes:
    """Decrypt and authenticate one Connect message. Raises whatever the SDK raises on bad input."""
    cached = _managers.get(key_id)
    if cached is None or cached[0] is not private_key:
        provider = ConnectKeyProvider().bind({key_id: private_key})
        cached = (private_key, DefaultCryptoMaterialsManager(master_key_provider=provider))
        _managers[key_id] = cached
    # `client.decrypt` would wrap this stream in `with`: on any failure its close() raises "Footer not
    # read", which the SDK logs with a traceback, and io.IOBase's finalizer prints a second traceback
    # to stderr (Python 3.13). Closing the base stream directly ends it quietly either way.
    stream = _DECRYPT_CLIENT.stream(mode="d", source=message, materials_manager=cached[1], max_body_length=FRAME_LENGTH)
    try:
        return stream.read()
    finally:
        io.IOBase.close(stream)


def encrypt_like_connect(digits: str | bytes, public_key_pem: bytes, key_id: str) -> str:
    """Base64 ciphertext of `digits` exactly as Connect's *Store customer input* produces it.

    `public_key_pem` is the public key uploaded to Connect or the certificate given to the flow.
    """
    plaintext = digits.encode("ascii") if isinstance(digits, str) else digits
    key = RawMasterKey(
        provider_id=PROVIDER_ID,
        key_id=key_id.encode("ascii"),
        wrapping_key=WrappingKey(
            wrapping_algorithm=WRAPPING,
            wrapping_key=public_key_from_pem(public_key_pem),
            wrapping_key_type=EncryptionKeyType.PUBLIC,
        ),
    )
    message, _header = _ENCRYPT_CLIENT.encrypt(
        source=plaintext, key_provider=key, algorithm=SUITE, frame_length=FRAME_LENGTH
    )
    return base64.b64encode(message).decode("ascii")


def public_key_from_pem(pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo PEM of a public key PEM or of an X.509 certificate PEM."""
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        return pem
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate(pem)
    return certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
