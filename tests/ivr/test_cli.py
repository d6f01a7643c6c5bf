"""The operator CLI: keygen files, encrypt -> check round trips, put-key into (moto) SSM."""

from __future__ import annotations

import datetime
import io
import json
import shutil
import stat
import subprocess

import pytest

from chalicelib.ivr.cli import main
from tests.ivr.vectors import FIXTURE_DIR, FIXTURE_KEY_ID, FIXTURE_PLAINTEXT, flow_event


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_keygen_writes_the_files_openssl_would(keygen_files):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_pem = keygen_files.private_key.read_bytes()
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted, like `openssl req -nodes`
    assert stat.S_IMODE(keygen_files.private_key.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(private_pem, None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 4096

    certificate = x509.load_pem_x509_certificate(keygen_files.certificate.read_bytes())
    assert certificate.issuer == certificate.subject
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert datetime.timedelta(days=730) <= lifetime <= datetime.timedelta(days=731)

    public_pem = keygen_files.public_key.read_bytes()
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    spki = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert (
        public_pem
        == spki
        == certificate.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_keygen_public_key_is_what_openssl_extracts_from_the_certificate(keygen_files):
    extracted = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout", "-in", str(keygen_files.certificate)], capture_output=True, check=True
    ).stdout
    assert extracted == keygen_files.public_key.read_bytes()


def test_check_decrypts_the_real_fixture_without_printing_digits(capsys, fixture_ciphertext):
    code, out, _ = run(capsys, "check", "--private-key", str(FIXTURE_DIR / "test.private.key"), fixture_ciphertext)

    assert code == 0
    assert json.loads(out) == {"Status": "OK", "Length": "12", "Last4": "7789", "LuhnValid": "false"}
    assert FIXTURE_PLAINTEXT not in out


def test_encrypt_then_check_through_stdin(capsys, monkeypatch):
    certificate = str(FIXTURE_DIR / "test.connect.certificate.pem")
    code, ciphertext, _ = run(
        capsys,
        "encrypt",
        "--public-key",
        certificate,
        "--key-id",
        FIXTURE_KEY_ID,
        "-",
        stdin="5105105105105100\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0 and ciphertext.startswith("AYADe")

    code, out, _ = run(
        capsys,
        "check",
        "--private-key",
        str(FIXTURE_DIR / "test.private.key"),
        "--show-value",
        "-",
        stdin=ciphertext,
        monkeypatch=monkeypatch,
    )

    assert code == 0 and json.loads(out)["Value"] == "5105105105105100"


def test_encrypt_accepts_the_public_key_file_too(capsys):
    public_key = str(FIXTURE_DIR / "test.connect.public.key")
    code, ciphertext, _ = run(capsys, "encrypt", "--public-key", public_key, "--key-id", FIXTURE_KEY_ID, "4242")

    assert code == 0
    code, out, _ = run(capsys, "check", "--private-key", str(FIXTURE_DIR / "test.private.key"), ciphertext.strip())
    assert json.loads(out)["Length"] == "4"


def test_check_with_the_wrong_key_id_fails(capsys, fixture_ciphertext):
    code, out, _ = run(
        capsys, "check", "--private-key", str(FIXTURE_DIR / "test.private.key"), "--key-id", "other", fixture_ciphertext
    )

    assert code == 1 and json.loads(out) == {"Status": "ERROR", "Reason": "UNKNOWN_KEY"}


def test_check_with_the_wrong_private_key_fails(capsys, keygen_files, fixture_ciphertext):
    code, out, _ = run(capsys, "check", "--private-key", str(keygen_files.private_key), fixture_ciphertext)

    assert code == 1 and json.loads(out) == {"Status": "ERROR", "Reason": "DECRYPT_FAILED"}


def test_put_key_then_the_lambda_decrypts(capsys, ssm, chalice_client, fixture_ciphertext):
    code, out, _ = run(
        capsys, "put-key", "--private-key", str(FIXTURE_DIR / "test.private.key"), "--key-id", FIXTURE_KEY_ID
    )

    assert code == 0 and "/connect-guard/ivr-keys/" + FIXTURE_KEY_ID in out
    parameter = ssm.get_parameter(Name="/connect-guard/ivr-keys/" + FIXTURE_KEY_ID, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert parameter["Value"].encode() == (FIXTURE_DIR / "test.private.key").read_bytes()
    assert chalice_client.lambda_.invoke("ivr_decryptor", flow_event(fixture_ciphertext)).payload["Status"] == "OK"


def test_put_key_refuses_overwrite_unless_asked(capsys, ssm):
    args = ("put-key", "--private-key", str(FIXTURE_DIR / "test.private.key"), "--key-id", "k1", "--path", "/custom/")
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 2 and "ParameterAlreadyExists" in err
    assert run(capsys, *args, "--overwrite")[0] == 0


@pytest.mark.parametrize(
    "key_file, key_id",
    [
        ("test.connect.public.key", FIXTURE_KEY_ID),  # a public key cannot decrypt anything
        ("test.private.key", "not a key id"),
    ],
)
def test_put_key_refuses_unusable_input(capsys, ssm, key_file, key_id):
    code, _, err = run(capsys, "put-key", "--private-key", str(FIXTURE_DIR / key_file), "--key-id", key_id)

    assert code == 2 and err.startswith("error:")
    assert ssm.get_parameters_by_path(Path="/connect-guard/ivr-keys")["Parameters"] == []
