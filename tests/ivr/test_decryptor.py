"""The use case with hostile input: whatever arrives, a documented result and never an exception."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.ivr.decryptor import Decryptor
from chalicelib.ivr.keys import KeyStore
from chalicelib.ivr.request import IvrRequest
from chalicelib.ivr.result import Reason

OUTCOMES = {"OK"} | {reason.value for reason in Reason}


@pytest.fixture(scope="module")
def handler(fixture_key) -> Decryptor:
    """One decryptor for all examples: the key is parsed (~250 ms) once, as in a warm container."""
    keys = KeyStore(lambda: {fixture_key.key_id: fixture_key.private_pem}, ttl_seconds=900, refresh_min_seconds=10)
    return Decryptor(keys, max_ciphertext_chars=4096, return_value=True)


def outcome(result: dict[str, str]) -> str:
    assert set(result) <= {"Status", "Reason", "Value", "Length", "Last4", "LuhnValid"}
    assert all(isinstance(value, str) for value in result.values())
    return result["Status"] if result["Status"] == "OK" else result["Reason"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    event=json_values,
    ciphertext=st.one_of(
        st.none(), st.text(max_size=300), st.binary(max_size=900).map(lambda data: base64.b64encode(data).decode())
    ),
)
def test_random_events_never_raise(handler, event, ciphertext):
    assert outcome(handler.handle(IvrRequest.from_event(event))) in OUTCOMES
    assert outcome(handler.handle(IvrRequest(ciphertext=ciphertext, contact_id=None))) in OUTCOMES


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_connect_messages_fail_closed(handler, fixture_ciphertext, data):
    """Change any byte (header, wrapped key, body, signature): an error code, never digits, never a raise."""
    message = bytearray(base64.b64decode(fixture_ciphertext))
    position = data.draw(st.integers(0, len(message) - 1))
    message[position] ^= data.draw(st.integers(1, 255))

    result = handler.handle(IvrRequest(ciphertext=base64.b64encode(bytes(message)).decode(), contact_id=None))

    assert outcome(result) in OUTCOMES - {"OK"}  # every byte is authenticated: header tag, GCM tags, signature
