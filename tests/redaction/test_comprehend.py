"""The Comprehend adapter against botocore's Stubber (which validates every request against the service model)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from botocore.stub import Stubber

from chalicelib import aws
from chalicelib.redaction.comprehend import MAX_REQUEST_BYTES, ComprehendError, ComprehendPii, chunks

CARD = "4111111111111111"
TYPES = ("CREDIT_DEBIT_NUMBER", "SSN", "PIN")


@pytest.fixture
def stubbed():
    client = aws.client("comprehend")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def entity(kind: str, text: str, value: str, score: float = 0.99, offset: int = 0) -> dict:
    begin = text.index(value) - offset
    return {"Type": kind, "Score": score, "BeginOffset": begin, "EndOffset": begin + len(value)}


def adapter(
    client,
    language: str = "en",
    min_score: float = 0.5,
    entity_types: Iterable[str] = TYPES,
    max_bytes: int = MAX_REQUEST_BYTES,
) -> ComprehendPii:
    return ComprehendPii(lambda: client, language, min_score, entity_types, max_bytes)


@pytest.mark.parametrize("prefix", ["", "😀 ", "👩‍👩‍👧‍👦🎉 ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ", "e\u0301 café "])
def test_offsets_are_code_points_even_after_emoji_and_non_bmp(stubbed, prefix):
    client, stubber = stubbed
    text = f"{prefix}my card is {CARD} thanks"
    stubber.add_response(
        "detect_pii_entities",
        {"Entities": [entity("CREDIT_DEBIT_NUMBER", text, CARD)]},
        {"Text": text, "LanguageCode": "en"},
    )
    [found] = adapter(client).detect(text)
    assert text[found.start : found.end] == CARD


def test_score_threshold_and_type_filter(stubbed):
    client, stubber = stubbed
    text = f"card {CARD} ssn 460-89-9847 name Jane"
    stubber.add_response(
        "detect_pii_entities",
        {
            "Entities": [
                entity("CREDIT_DEBIT_NUMBER", text, CARD, 0.99),
                entity("SSN", text, "460-89-9847", 0.3),  # below PII_MIN_SCORE
                entity("NAME", text, "Jane", 0.99),  # not a requested type
            ]
        },
        {"Text": text, "LanguageCode": "en"},
    )
    assert [d.entity_type for d in adapter(client, min_score=0.5).detect(text)] == ["CREDIT_DEBIT_NUMBER"]


def test_language_is_passed_through(stubbed):
    client, stubber = stubbed
    text = f"mi tarjeta es {CARD}"
    stubber.add_response("detect_pii_entities", {"Entities": []}, {"Text": text, "LanguageCode": "es"})
    assert adapter(client, language="es").detect(text) == []


def test_offsets_outside_the_text_are_ignored(stubbed):
    client, stubber = stubbed
    text = f"card {CARD}"
    stubber.add_response(
        "detect_pii_entities",
        {
            "Entities": [
                {"Type": "CREDIT_DEBIT_NUMBER", "Score": 0.9, "BeginOffset": 5, "EndOffset": 500},
                {"Type": "CREDIT_DEBIT_NUMBER", "Score": 0.9, "BeginOffset": 8, "EndOffset": 8},
            ]
        },
        {"Text": text, "LanguageCode": "en"},
    )
    assert adapter(client).detect(text) == []


@pytest.mark.parametrize("text", ["😀👍", "...", "   ", "ok thanks"])
def test_text_that_cannot_hold_requested_types_is_never_sent(stubbed, text):
    client, _ = stubbed  # no responses queued: any call would fail the test
    assert adapter(client).detect(text) == []


def test_letters_only_text_is_sent_when_a_letter_type_is_requested(stubbed):
    client, stubber = stubbed
    text = "my password is hunter"
    stubber.add_response("detect_pii_entities", {"Entities": []}, {"Text": text, "LanguageCode": "en"})
    assert adapter(client, entity_types=("PASSWORD",)).detect(text) == []
    assert adapter(client, entity_types=("PASSWORD",)).detect("thanks a lot") == []  # no password word: skipped


def test_long_text_is_chunked_and_offsets_are_shifted(stubbed):
    client, stubber = stubbed
    filler = "word " * 30
    text = f"{filler}😀 card {CARD} {filler}ssn 460-89-9847 {filler}"
    pieces = chunks(text, 200)
    assert len(pieces) >= 3
    for offset, chunk in pieces:
        entities = []
        for kind, value in (("CREDIT_DEBIT_NUMBER", CARD), ("SSN", "460-89-9847")):
            if value in chunk:
                entities.append(entity(kind, chunk, value))
        stubber.add_response("detect_pii_entities", {"Entities": entities}, {"Text": chunk, "LanguageCode": "en"})
    found = adapter(client, max_bytes=200).detect(text)
    assert {text[d.start : d.end] for d in found} == {CARD, "460-89-9847"}


def test_chunks_respect_the_byte_limit_cover_everything_and_overlap():
    text = ("€uro 😀 " * 3000) + " card 4111111111111111 " + ("mot " * 20000)
    pieces = chunks(text, 100_000)
    assert len(pieces) > 1
    assert all(len(chunk.encode("utf-8")) <= 100_000 for _, chunk in pieces)
    assert pieces[0][0] == 0 and pieces[-1][0] + len(pieces[-1][1]) == len(text)
    for (offset, chunk), (next_offset, _) in zip(pieces, pieces[1:]):
        assert offset < next_offset < offset + len(chunk)  # progress, with overlap
        assert text[offset : offset + len(chunk)] == chunk
    assert any("4111111111111111" in chunk for _, chunk in pieces)


def test_short_text_is_one_chunk():
    assert chunks("hello") == [(0, "hello")]


@pytest.mark.parametrize(
    "code, status, transient",
    [
        ("ThrottlingException", 400, True),
        ("InternalServerException", 500, True),
        ("TextSizeLimitExceededException", 400, False),
        ("UnsupportedLanguageException", 400, False),
        ("InvalidRequestException", 400, False),
    ],
)
def test_errors_carry_the_code_only(stubbed, captured_logs, code, status, transient):
    client, stubber = stubbed
    text = f"card {CARD}"
    stubber.add_client_error(
        "detect_pii_entities", service_error_code=code, service_message=f"bad {CARD}", http_status_code=status
    )
    with pytest.raises(ComprehendError) as info:
        adapter(client).detect(text)
    assert info.value.code == code and info.value.transient is transient
    assert CARD not in str(info.value) and info.value.__cause__ is None
    captured_logs.assert_absent(CARD)
    assert any(e["event"] == "comprehend_failed" and e["error"] == code for e in captured_logs.events())


def test_client_is_built_on_first_call_only():
    built = []

    def factory():
        built.append(1)
        return aws.client("comprehend")

    pii = ComprehendPii(factory, "en", 0.5, TYPES)
    assert built == [] and aws._clients == {}
    pii.detect("😀")  # skipped: still no client
    assert built == []
