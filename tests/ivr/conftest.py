"""IVR test fixtures: the real Connect vector, one generated RSA-4096 key per session, moto SSM."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def fixture_ciphertext() -> str:
    return (FIXTURE_DIR / "ciphertext.b64").read_text().strip()


@pytest.fixture(scope="session")
def fixture_key() -> ConnectKey:
    return ConnectKey(
        key_id=FIXTURE_KEY_ID,
        private_pem=(FIXTURE_DIR / "test.private.key").read_bytes(),
        public_pem=(FIXTURE_DIR / "test.connect.certificate.pem").read_bytes(),
    )


@pytest.fixture(scope="session")
def second_key(tmp_path_factory) -> ConnectKey:
    """The one RSA-4096 key generated per test session (~1 s), made by the CLI's keygen."""
    from chalicelib.ivr.cli import generate_key_files

    files = generate_key_files(tmp_path_factory.mktemp("keys"), name="rotation")
    return ConnectKey(
        key_id="0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f",
        private_pem=files.private_key.read_bytes(),
        public_pem=files.certificate.read_bytes(),
    )


@pytest.fixture(autouse=True)
def _fresh_decryptor():
    """Each test starts with a cold container: no cached key store."""
    from chalicelib.ivr import decryptor

    decryptor.container_decryptor.cache_clear()
    yield
    decryptor.container_decryptor.cache_clear()


@pytest.fixture
def ssm():
    from moto import mock_aws

    from chalicelib import aws

    with mock_aws():
        yield aws.client("ssm")


def put_key(ssm, key: ConnectKey, path: str = KEYS_PATH) -> None:
    ssm.put_parameter(Name=path + key.key_id, Value=key.private_pem.decode(), Type="SecureString")


def flow_event(ciphertext: str | None, parameter: str = "EncryptedValue") -> dict:
    """A contact-flow Lambda event as Connect sends it (REFERENCE.md §7.5)."""
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
