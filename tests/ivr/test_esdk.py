"""The one place esdk.py reaches past the SDK's public surface gives exactly what the SDK would."""

from __future__ import annotations

import base64
import io


def header_of(ciphertext: str):
    from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header

    return deserialize_header(io.BytesIO(base64.b64decode(ciphertext)))[0]


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
