"""The two places esdk.py reaches past the SDK's public surface give exactly what the SDK would."""

from __future__ import annotations

import base64
import io

import pytest


def header_of(ciphertext: str):
    from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header

    return deserialize_header(io.BytesIO(base64.b64decode(ciphertext)))[0]


def test_verification_key_matches_the_sdks_own_decoding(fixture_ciphertext, fixture_key):
    from aws_encryption_sdk.materials_managers.default import DefaultCryptoMaterialsManager

    from chalicelib.ivr.esdk import ConnectKeyProvider, _ConnectMaterialsManager

    provider = ConnectKeyProvider()
    ours = _ConnectMaterialsManager(master_key_provider=provider)
    sdk = DefaultCryptoMaterialsManager(master_key_provider=provider)
    for text in [fixture_ciphertext] + [fixture_key.encrypt("1234") for _ in range(5)]:  # both y parities, likely
        header = header_of(text)
        assert ours._load_verification_key_from_encryption_context(header.algorithm, header.encryption_context) == \
            sdk._load_verification_key_from_encryption_context(header.algorithm, header.encryption_context)


def test_points_on_and_off_the_curve_are_treated_as_the_sdk_does(fixture_ciphertext):
    from aws_encryption_sdk.materials_managers.default import DefaultCryptoMaterialsManager

    from chalicelib.ivr.esdk import ConnectKeyProvider, _ConnectMaterialsManager

    header = header_of(fixture_ciphertext)
    managers = [cls(master_key_provider=ConnectKeyProvider()) for cls in (_ConnectMaterialsManager,
                                                                          DefaultCryptoMaterialsManager)]
    point = bytearray(base64.b64decode(header.encryption_context["aws-crypto-public-key"]))
    refused = 0
    for last_byte in range(64):  # about half of all x coordinates have no point on P-384
        point[-1] = last_byte
        context = {"aws-crypto-public-key": base64.b64encode(bytes(point)).decode()}
        outcomes = []
        for manager in managers:
            try:
                outcomes.append(manager._load_verification_key_from_encryption_context(header.algorithm, context))
            except ValueError:
                outcomes.append("refused")
        assert outcomes[0] == outcomes[1], last_byte
        refused += outcomes[0] == "refused"
    assert 0 < refused < 64


def test_the_parsed_key_wrapper_decrypts_like_a_pem_wrapping_key(fixture_ciphertext, fixture_key):
    from aws_encryption_sdk.identifiers import EncryptionKeyType
    from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
    from aws_encryption_sdk.internal.structures import EncryptedData

    from chalicelib.ivr.esdk import WRAPPING, _ParsedRsaKey
    from chalicelib.ivr.keys import load_rsa_private_key

    (data_key,) = header_of(fixture_ciphertext).encrypted_data_keys
    wrapped = EncryptedData(iv=None, ciphertext=data_key.encrypted_data_key, tag=None)
    reference = WrappingKey(WRAPPING, fixture_key.private_pem, EncryptionKeyType.PRIVATE)

    ours = _ParsedRsaKey(load_rsa_private_key(fixture_key.private_pem))

    assert ours.decrypt(wrapped, {}) == reference.decrypt(wrapped, {})
