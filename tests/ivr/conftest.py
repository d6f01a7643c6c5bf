"""IVR test fixtures: the real Connect vector, one generated RSA-4096 key per session, moto SSM."""

from __future__ import annotations

import pytest

from tests.ivr.vectors import FIXTURE_DIR, FIXTURE_KEY_ID, ConnectKey


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
def keygen_files(tmp_path_factory):
    """The one RSA-4096 key generated per test session (~1 s), made by the CLI's keygen."""
    from chalicelib.ivr.cli import generate_key_files

    return generate_key_files(tmp_path_factory.mktemp("keys"), name="rotation")


@pytest.fixture(scope="session")
def second_key(keygen_files) -> ConnectKey:
    files = keygen_files
    return ConnectKey(
        key_id="0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f",
        private_pem=files.private_key.read_bytes(),
        public_pem=files.certificate.read_bytes(),
    )


@pytest.fixture
def ssm():
    from moto import mock_aws

    from chalicelib import aws

    with mock_aws():
        yield aws.client("ssm")
