"""IVR test material: the real Connect vector, keys, contact-flow events and SDK messages (fixtures are in
conftest.py; tests import these helpers from here)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "connect-encrypted-input"
FIXTURE_KEY_ID = "a5ecd749-4bd8-4a94-bfde-27eefe4f12b1"
FIXTURE_PLAINTEXT = "112344567789"
KEYS_PATH = "/connect-guard/ivr-keys/"  # the local stage's IVR_KEYS_PATH


@dataclass(frozen=True)
class ConnectKey:
    key_id: str
    private_pem: bytes
    public_pem: bytes  # the certificate PEM, as the flow gets it

    def encrypt(self, digits: str) -> str:
        from chalicelib.ivr.esdk import encrypt_like_connect

        return encrypt_like_connect(digits, self.public_pem, self.key_id)


def put_key(ssm, key: ConnectKey, path: str = KEYS_PATH) -> None:
    ssm.put_parameter(Name=path + key.key_id, Value=key.private_pem.decode(), Type="SecureString")


def flow_event(ciphertext: str | None, parameter: str = "EncryptedValue") -> dict:
    """A contact-flow Lambda event as Connect sends it (docs/reference/ivr-encryption.md)."""
    parameters = {} if ciphertext is None else {parameter: ciphertext}
    return {
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "VOICE",
                "ContactId": "5ca1ab1e-0a0b-4c0d-8e0f-a1b2c3d4e5f6",
                "InitiationMethod": "INBOUND",
                "InstanceARN": "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
            },
            "Parameters": parameters,
        },
        "Name": "ContactFlowEvent",
    }


def flip_byte(ciphertext: str, index: int) -> str:
    raw = bytearray(base64.b64decode(ciphertext))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def sdk_message(
    key: ConnectKey,
    digits: str = "4111111111111111",
    *,
    suite: str = "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384",
    provider_id: str = "AmazonConnect",
    extra_key: ConnectKey | None = None,
    frame_length: int = 4096,
) -> str:
    """A real Encryption SDK message that differs from Connect's in one chosen way."""
    import aws_encryption_sdk
    from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy, EncryptionKeyType, WrappingAlgorithm
    from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
    from aws_encryption_sdk.key_providers.raw import RawMasterKeyProvider

    from chalicelib.ivr.esdk import public_key_from_pem

    keys = {k.key_id.encode(): k for k in (key, extra_key) if k is not None}
    wanted_provider_id = provider_id

    class PublicKeys(RawMasterKeyProvider):
        provider_id = wanted_provider_id

        def _get_raw_key(self, key_id):
            return WrappingKey(
                WrappingAlgorithm.RSA_OAEP_SHA512_MGF1,
                public_key_from_pem(keys[key_id].public_pem),
                EncryptionKeyType.PUBLIC,
            )

    algorithm = getattr(Algorithm, suite)
    committing = algorithm.is_committing()
    policy = (
        CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        if committing
        else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    provider = PublicKeys()
    provider.add_master_keys_from_list(list(keys))
    message, _ = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy).encrypt(
        source=digits.encode(), key_provider=provider, algorithm=algorithm, frame_length=frame_length
    )
    return base64.b64encode(message).decode()
