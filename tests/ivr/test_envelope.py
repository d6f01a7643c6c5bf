"""The pre-check: strict base64 and Connect's exact header shape, before any RSA work."""

from __future__ import annotations

import base64
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.ivr.envelope import Rejected, check_header, decode_base64, open_envelope
from chalicelib.ivr.result import Reason
from tests.ivr.vectors import FIXTURE_KEY_ID, sdk_message


def reason_of(text: str, max_chars: int = 4096) -> Reason | None:
    try:
        open_envelope(text, max_chars)
    except Rejected as rejected:
        return rejected.reason
    return None


def sdk_header(message: bytes):
    from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header

    header, raw = deserialize_header(io.BytesIO(message))
    return header, len(raw)


def test_the_real_connect_message(fixture_ciphertext):
    envelope = open_envelope(fixture_ciphertext, 4096)

    assert envelope.key_id == FIXTURE_KEY_ID
    assert len(envelope.message) == 881 and len(fixture_ciphertext) == 1176


def test_our_parser_agrees_with_the_sdk(fixture_ciphertext, fixture_key, second_key):
    for text in (fixture_ciphertext, fixture_key.encrypt("1"), second_key.encrypt("12345678901234567890")):
        envelope = open_envelope(text, 4096)
        header, _ = sdk_header(envelope.message)
        (data_key,) = header.encrypted_data_keys
        assert header.algorithm.algorithm_id == 0x0378
        assert data_key.key_provider.provider_id == "AmazonConnect"
        assert data_key.key_provider.key_info.decode() == envelope.key_id
        assert header.frame_length == 4096


def test_our_encrypt_matches_connect_field_for_field(fixture_ciphertext, fixture_key):
    connect, connect_length = sdk_header(base64.b64decode(fixture_ciphertext))
    ours, ours_length = sdk_header(base64.b64decode(fixture_key.encrypt("112344567789")))

    for field in (
        "version",
        "type",
        "algorithm",
        "content_type",
        "content_aad_length",
        "header_iv_length",
        "frame_length",
    ):
        assert getattr(ours, field) == getattr(connect, field), field
    assert set(ours.encryption_context) == set(connect.encryption_context) == {"aws-crypto-public-key"}
    assert [(k.key_provider, len(k.encrypted_data_key)) for k in ours.encrypted_data_keys] == [
        (k.key_provider, len(k.encrypted_data_key)) for k in connect.encrypted_data_keys
    ]
    assert ours_length == connect_length
    assert len(base64.b64decode(fixture_key.encrypt("112344567789"))) == 881


@pytest.mark.parametrize(
    "variant, reason",
    [
        ({"suite": "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"}, Reason.UNSUPPORTED_FORMAT),  # committed, format v2
        ({"suite": "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"}, Reason.UNSUPPORTED_FORMAT),
        ({"suite": "AES_256_GCM_IV12_TAG16_HKDF_SHA256"}, Reason.UNSUPPORTED_FORMAT),  # v1 but unsigned
        ({"provider_id": "amazonconnect"}, Reason.UNSUPPORTED_FORMAT),  # the match is case-sensitive
        ({"provider_id": "aws-kms"}, Reason.UNSUPPORTED_FORMAT),
        ({"frame_length": 0}, Reason.UNSUPPORTED_FORMAT),  # non-framed
        ({"frame_length": 8192}, Reason.UNSUPPORTED_FORMAT),
    ],
)
def test_messages_connect_does_not_produce(fixture_key, variant, reason):
    assert reason_of(sdk_message(fixture_key, **variant)) == reason


def test_messages_with_two_data_keys(fixture_key, second_key):
    assert reason_of(sdk_message(fixture_key, extra_key=second_key)) == Reason.UNSUPPORTED_FORMAT


def test_every_truncated_header_is_malformed(fixture_ciphertext):
    message = base64.b64decode(fixture_ciphertext)
    _, header_length = sdk_header(message)
    for length in range(header_length - 28):  # the header without its 12-byte IV and 16-byte tag
        with pytest.raises(Rejected) as rejected:
            check_header(message[:length])
        assert rejected.value.reason == Reason.MALFORMED, length


def test_key_ids_that_cannot_be_connect_ids(fixture_key):
    bad = type(fixture_key)(key_id="x" * 129, private_pem=b"", public_pem=fixture_key.public_pem)
    assert reason_of(sdk_message(bad)) == Reason.UNKNOWN_KEY


@pytest.mark.parametrize(
    "text, reason",
    [
        ("A" * 4097, Reason.TOO_LARGE),
        ("QR==", Reason.MALFORMED),  # valid characters, non-zero padding bits: not canonical
        ("AYAD eO==", Reason.MALFORMED),
        ("AYADeO==\n", Reason.MALFORMED),
        ("AYADeO", Reason.MALFORMED),  # missing padding
        ("AYADé===", Reason.MALFORMED),
        ("AYAD-_==", Reason.MALFORMED),  # urlsafe alphabet
        ("====", Reason.MALFORMED),
    ],
)
def test_strict_base64(text, reason):
    assert reason_of(text) == reason


def test_the_length_cap_is_checked_before_decoding():
    with pytest.raises(Rejected) as rejected:
        decode_base64("é" * 5000, 4096)
    assert rejected.value.reason == Reason.TOO_LARGE


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_either_accepted_or_rejected_with_a_code(text):
    assert reason_of(text) in set(Reason) | {None}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1200))
def test_any_bytes_are_either_accepted_or_rejected_with_a_code(data):
    assert reason_of(base64.b64encode(data).decode()) in set(Reason) | {None}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_connect_headers_never_escape(fixture_ciphertext, data):
    message = bytearray(base64.b64decode(fixture_ciphertext))
    for _ in range(data.draw(st.integers(1, 4))):
        message[data.draw(st.integers(0, 799))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(message)))
    assert reason_of(base64.b64encode(bytes(message[:cut])).decode()) in set(Reason) | {None}
