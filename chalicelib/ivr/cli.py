"""Operator CLI for the secure IVR keys: `python -m chalicelib.ivr.cli <command> --help`.

    keygen   RSA-4096 private key + self-signed X.509 certificate + public key (the openssl files)
    put-key  store a private key in SSM under IVR_KEYS_PATH, named by its Connect key id (SecureString)
    encrypt  a ciphertext exactly as Connect's *Store customer input* makes it (tests, sandbox, drills)
    check    decrypt a ciphertext locally with a private key file, through the Lambda's own checks

Never imported by the Lambda path. Digits and ciphertexts can be read from stdin (`-`) so they stay
out of shell history; `check` prints the digits only with `--show-value`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chalicelib.ivr.envelope import Rejected, open_envelope
from chalicelib.ivr.keys import KeyStore, load_rsa_private_key
from chalicelib.ivr.request import IvrRequest

SSM_STANDARD_MAX = 4096  # bytes; an RSA-4096 PKCS#8 PEM is ~3.3 KB


@dataclass(frozen=True)
class KeyFiles:
    private_key: Path  # PKCS#8 PEM, unencrypted (as `openssl req -nodes`), mode 0600
    certificate: Path  # self-signed X.509, SHA-256: give it to the flow's *Store customer input* block
    public_key: Path  # SubjectPublicKeyInfo PEM: upload it to the Connect instance to get a key id


def generate_key_files(
    directory: Path,
    name: str = "connect",
    days: int = 730,
    common_name: str = "Connect Guard IVR",
    key_size: int = 4096,
) -> KeyFiles:
    """What `openssl req -x509 -sha256 -nodes -newkey rsa:4096 ...` and `openssl x509 -pubkey` produce."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = KeyFiles(
        private_key=directory / f"{name}.private.key",
        certificate=directory / f"{name}.certificate.pem",
        public_key=directory / f"{name}.public.key",
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(files.private_key, private_pem)
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.public_key.write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return files


def put_key(
    private_key_pem: bytes, key_id: str, path: str, kms_key_id: str | None = None, overwrite: bool = False
) -> str:
    """Validate the key, store it as a SecureString named `<path><key id>`; returns the parameter name."""
    from chalicelib import aws

    _check_key_id(key_id)
    load_rsa_private_key(private_key_pem)  # refuse to upload something the Lambda cannot use
    name = path.rstrip("/") + "/" + key_id
    request = {
        "Name": name,
        "Description": "Amazon Connect secure IVR private key (Connect key id = last path segment)",
        "Value": private_key_pem.decode("ascii"),
        "Type": "SecureString",
        "Tier": "Standard" if len(private_key_pem) <= SSM_STANDARD_MAX else "Advanced",
        "Overwrite": overwrite,
    }
    if kms_key_id:
        request["KeyId"] = kms_key_id
    aws.client("ssm").put_parameter(**request)
    return name


def encrypt(digits: str, public_key_pem: bytes, key_id: str) -> str:
    """Base64 ciphertext of `digits` exactly as Connect makes it (public key or certificate PEM)."""
    from chalicelib.ivr.esdk import encrypt_like_connect

    _check_key_id(key_id)
    return encrypt_like_connect(digits, public_key_pem, key_id)


def check(ciphertext: str, private_key_pem: bytes, key_id: str | None = None) -> dict[str, str]:
    """The Lambda's result map for `ciphertext`, decrypted with a local private key file."""
    from chalicelib.ivr.decryptor import Decryptor

    if key_id is None:
        try:
            key_id = open_envelope(ciphertext, len(ciphertext)).key_id
        except Rejected:
            key_id = ""
    keys = KeyStore(lambda: {key_id: private_key_pem}, ttl_seconds=3600, refresh_min_seconds=3600)
    decryptor = Decryptor(keys, max_ciphertext_chars=65536, return_value=True)
    return decryptor.handle(IvrRequest(ciphertext=ciphertext, contact_id=None))


# ---------------------------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from chalicelib import logs

    logs.configure("WARNING", to_stderr=True)  # stdout carries results (a ciphertext, a result map) only
    try:
        return args.run(args)
    except (ValueError, TypeError, OSError) as exc:  # bad key file, bad key id, unreadable path
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not type(exc).__module__.startswith("botocore"):
            raise
        from chalicelib import aws

        print(f"error: AWS said {aws.error_code(exc)}", file=sys.stderr)  # e.g. ParameterAlreadyExists
        return 2


def _cmd_keygen(args: argparse.Namespace) -> int:
    files = generate_key_files(Path(args.out), args.name, args.days, args.common_name)
    print(f"private key  {files.private_key}  (keep secret; store it with put-key, then delete this file)")
    print(f"certificate  {files.certificate}  (paste into the flow's Store customer input block)")
    print(f"public key   {files.public_key}  (upload to the Connect instance to get its key id)")
    return 0


def _cmd_put_key(args: argparse.Namespace) -> int:
    from chalicelib import settings

    path = args.path or settings.load().ivr.keys_path
    name = put_key(Path(args.private_key).read_bytes(), args.key_id, path, args.kms_key_id, args.overwrite)
    print(f"stored {name} (SecureString)")
    return 0


def _cmd_encrypt(args: argparse.Namespace) -> int:
    print(encrypt(_value_or_stdin(args.digits), Path(args.public_key).read_bytes(), args.key_id))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    result = check(_value_or_stdin(args.ciphertext), Path(args.private_key).read_bytes(), args.key_id)
    if not args.show_value:
        result.pop("Value", None)
    print(json.dumps(result, indent=2))
    return 0 if result["Status"] == "OK" else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.ivr.cli", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="command")

    keygen = commands.add_parser("keygen", help="new RSA-4096 key, self-signed certificate and public key")
    keygen.add_argument("--out", default=".", help="directory for the three files [.]")
    keygen.add_argument("--name", default="connect", help="file name prefix [connect]")
    keygen.add_argument("--days", type=int, default=730, help="certificate validity in days [730]")
    keygen.add_argument("--common-name", default="Connect Guard IVR", help="certificate subject CN")
    keygen.set_defaults(run=_cmd_keygen)

    put = commands.add_parser("put-key", help="store a private key in SSM Parameter Store (SecureString)")
    put.add_argument("--private-key", required=True, help="PEM private key file")
    put.add_argument("--key-id", required=True, help="the key id Connect returned for the public key")
    put.add_argument("--path", help="parameter path [IVR_KEYS_PATH or /connect-guard/ivr-keys/]")
    put.add_argument("--kms-key-id", help="KMS key for the SecureString [alias/aws/ssm]")
    put.add_argument("--overwrite", action="store_true", help="replace an existing parameter")
    put.set_defaults(run=_cmd_put_key)

    enc = commands.add_parser("encrypt", help="encrypt digits exactly as Amazon Connect does")
    enc.add_argument("--public-key", required=True, help="public key or certificate PEM file")
    enc.add_argument("--key-id", required=True, help="Connect key id to name in the message")
    enc.add_argument("digits", help="the digits, or - to read them from stdin")
    enc.set_defaults(run=_cmd_encrypt)

    chk = commands.add_parser("check", help="decrypt a ciphertext locally, as the Lambda would")
    chk.add_argument("--private-key", required=True, help="PEM private key file")
    chk.add_argument("--key-id", help="expected Connect key id [the one the message names]")
    chk.add_argument("--show-value", action="store_true", help="also print the decrypted digits")
    chk.add_argument("ciphertext", help="base64 ciphertext, or - to read it from stdin")
    chk.set_defaults(run=_cmd_check)
    return parser


def _value_or_stdin(value: str) -> str:
    return sys.stdin.read().strip() if value == "-" else value


def _check_key_id(key_id: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    if not 0 < len(key_id) <= 128 or not set(key_id) <= allowed:
        raise ValueError("key id must be 1-128 letters, digits, '-', '_' or '.' (Connect key ids are GUIDs)")


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


if __name__ == "__main__":
    raise SystemExit(main())
