"""Issue 17, worst-cost input for `ivr_decryptor`: every hostile family is bounded before the expensive work.

The expensive steps are a base64 decode (linear in the input), a key-set fetch from SSM (a network call),
and one RSA-4096 unwrap + ECDSA P-384 verify (~2 ms of CPU, benchmarks/RESULTS.md `bench_ivr`). Each family
is measured here as those work counts, never as time: an over-cap input is never decoded, a flood of made-up
key ids costs one SSM read per IVR_KEY_REFRESH_MIN_SECONDS, a message with several data keys never reaches RSA, and nothing costs more
than one RSA operation. The figures per family are in `benchmarks/bench_ivr.py` ("Hostile input").
"""

from __future__ import annotations

import base64
import struct
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.ivr.decryptor import Decryptor, sdk_decrypt
from chalicelib.ivr.keys import KeyStore
from chalicelib.ivr.request import IvrRequest
from chalicelib.ivr.result import Reason
from tests.ivr.vectors import FIXTURE_DIR, FIXTURE_KEY_ID, flip_byte

CAP = 4096  # IVR_MAX_CIPHERTEXT_CHARS default


class Work:
    """Counts of the expensive steps, and a decryptor wired to count them."""

    def __init__(self, monkeypatch, pem: bytes):
        self.decodes = self.fetches = self.rsa = 0
        real_decode = base64.b64decode  # the decoder chalicelib/ivr/envelope.py calls

        def decode(*args, **kwargs):
            self.decodes += 1
            return real_decode(*args, **kwargs)

        def fetch():
            self.fetches += 1
            return {FIXTURE_KEY_ID: pem}

        def decrypt(message, key_id, private_key):
            self.rsa += 1
            return sdk_decrypt(message, key_id, private_key)

        monkeypatch.setattr(base64, "b64decode", decode)
        now = [0.0]
        self.clock = now
        keys = KeyStore(fetch, ttl_seconds=900, refresh_min_seconds=10, clock=lambda: now[0])
        self.decryptor = Decryptor(keys, max_ciphertext_chars=CAP, return_value=True, decrypt=decrypt)

    def reason(self, ciphertext: str) -> str:
        result = self.decryptor.handle(IvrRequest(ciphertext=ciphertext, contact_id=None))
        return result.get("Reason", result["Status"])


@pytest.fixture(scope="module")
def real() -> str:
    return (FIXTURE_DIR / "ciphertext.b64").read_text().strip()


@pytest.fixture
def work(monkeypatch):
    return Work(monkeypatch, (FIXTURE_DIR / "test.private.key").read_bytes())


def with_key_id(ciphertext: str, key_id: str) -> str:
    raw = base64.b64decode(ciphertext)
    assert len(key_id) == len(FIXTURE_KEY_ID)
    return base64.b64encode(raw.replace(FIXTURE_KEY_ID.encode(), key_id.encode(), 1)).decode()


def with_key_count(ciphertext: str, count: int) -> str:
    raw = bytearray(base64.b64decode(ciphertext))
    (context_length,) = struct.unpack_from(">H", raw, 20)
    struct.pack_into(">H", raw, 22 + context_length, count)
    return base64.b64encode(bytes(raw)).decode()


def test_an_input_over_the_cap_is_never_decoded(work):
    for size in (CAP + 1, 64 * 1024, 1024 * 1024, 6 * 1024 * 1024):  # 6 MiB: Lambda's payload limit
        assert work.reason("A" * size) == Reason.TOO_LARGE.value
    assert (work.decodes, work.fetches, work.rsa) == (0, 0, 0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("A" * CAP, Reason.UNSUPPORTED_FORMAT),  # cap-length valid base64 of zero bytes: format version 0
        ("é" * CAP, Reason.MALFORMED),
        ("!" * CAP, Reason.MALFORMED),
        ("QUFB" * (CAP // 4), Reason.UNSUPPORTED_FORMAT),  # base64 of base64: decoded once, never again
    ],
)
def test_cap_length_garbage_costs_one_decode_and_nothing_else(work, text, reason):
    assert work.reason(text) == reason.value
    assert (work.decodes, work.fetches, work.rsa) == (1, 0, 0)


def test_base64_of_the_real_ciphertext_is_decoded_once(work, real):
    nested = base64.b64encode(real.encode()).decode()  # 1,568 characters: under the cap
    assert work.reason(nested) == Reason.UNSUPPORTED_FORMAT.value
    assert (work.decodes, work.fetches, work.rsa) == (1, 0, 0)


def test_a_flood_of_made_up_key_ids_costs_one_ssm_read_per_refresh_interval(work, real):
    made_up = [with_key_id(real, str(uuid.UUID(int=n))) for n in range(1, 1001)]
    assert {work.reason(text) for text in made_up} == {Reason.UNKNOWN_KEY.value}
    assert (work.fetches, work.rsa) == (1, 0)  # the first load counts as the refresh: none for 10 s
    work.clock[0] += 10
    assert work.reason(made_up[0]) == Reason.UNKNOWN_KEY.value and work.fetches == 2


@pytest.mark.parametrize("count", [0, 2, 255, 65535])
def test_any_number_of_data_keys_but_one_never_reaches_rsa(work, real, count):
    assert work.reason(with_key_count(real, count)) in {Reason.UNSUPPORTED_FORMAT.value, Reason.MALFORMED.value}
    assert (work.fetches, work.rsa) == (0, 0)


@pytest.mark.parametrize("where", ["data key", "body", "signature"])
def test_a_forged_message_for_the_real_key_costs_one_rsa_operation(work, real, where):
    raw_length = len(base64.b64decode(real))
    index = {"data key": 200, "body": raw_length - 150, "signature": raw_length - 1}[where]
    assert work.reason(flip_byte(real, index)) == Reason.DECRYPT_FAILED.value
    assert (work.fetches, work.rsa) == (1, 1)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2 * CAP) | st.binary(max_size=3 * CAP // 4).map(lambda b: base64.b64encode(b).decode()))
def test_any_text_costs_at_most_one_decode_and_one_rsa_operation(text):
    with pytest.MonkeyPatch.context() as patch:
        work = Work(patch, (FIXTURE_DIR / "test.private.key").read_bytes())
        work.reason(text)
    assert work.decodes <= 1 and work.rsa <= 1 and work.fetches <= 2
    if len(text) > CAP:
        assert work.decodes == 0
