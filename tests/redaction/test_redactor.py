"""The redactor: masking rules, engines and their failures, context across messages, what it stores and logs."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pytest
from botocore.stub import Stubber

from chalicelib import aws, settings
from chalicelib.redaction.comprehend import ComprehendPii
from chalicelib.redaction.detectors import Detection
from chalicelib.redaction.masking import merge
from chalicelib.redaction.redactor import RedactionContext, RedactionUnavailable, Redactor, build_redactor

CARD = "4111111111111111"
NOW = 1_790_000_000.0


def redaction_settings(**env) -> settings.RedactionSettings:
    return settings.Settings(env=env).redaction


def inbound(**env) -> Redactor:
    return build_redactor(redaction_settings(**env), "inbound")


# ---------------------------------------------------------------------------------------------- masking


def test_masks_each_entity_with_its_type():
    result = inbound().redact(f"card {CARD} ssn 460-89-9847 pin is 4821", now=NOW)
    assert result.text == "card [CREDIT_DEBIT_NUMBER] ssn [SSN] pin is [PIN]"
    assert result.entity_counts == {"CREDIT_DEBIT_NUMBER": 1, "SSN": 1, "PIN": 1}
    assert result.changed and not result.degraded


def test_mask_template_is_configurable():
    assert inbound(PII_MASK_TEMPLATE="<{type}>").redact(f"card {CARD}", now=NOW).text == "card <CREDIT_DEBIT_NUMBER>"
    assert inbound(PII_MASK_TEMPLATE="[PII]").redact(f"card {CARD}", now=NOW).text == "card [PII]"


def test_spelled_and_full_width_numbers_are_masked_in_the_original_text():
    redactor = inbound()
    spelled = "card four one one one one one one one one one one one one one one one thanks"
    assert redactor.redact(spelled, now=NOW).text == "card [CREDIT_DEBIT_NUMBER] thanks"
    assert redactor.redact("card ４１１１ １１１１ １１１１ １１１１!", now=NOW).text == "card [CREDIT_DEBIT_NUMBER]!"


def test_emoji_before_the_number_does_not_shift_the_mask():
    assert inbound().redact(f"👩‍👩‍👧‍👦😀 𝔘 {CARD} ok", now=NOW).text == "👩‍👩‍👧‍👦😀 𝔘 [CREDIT_DEBIT_NUMBER] ok"


def test_overlapping_spans_merge_and_the_higher_priority_type_names_them():
    text = "x 4111 1111 1111 1111 y"
    spans = [
        Detection("PHONE", 2, 11, 0.9),
        Detection("CREDIT_DEBIT_NUMBER", 2, 21, 0.9),
        Detection("PIN", 17, 21, 0.9),
    ]
    assert merge(spans, text, {"CREDIT_DEBIT_NUMBER": 0, "PIN": 1, "PHONE": 2}) == [
        Detection("CREDIT_DEBIT_NUMBER", 2, 21, 0.9)
    ]


def test_a_span_stopping_short_of_a_number_grows_to_cover_it():
    text = "card 4111 1111 1111 1111 ok"
    [span] = merge([Detection("CREDIT_DEBIT_NUMBER", 7, 19, 0.9)], text, {})
    assert text[span.start : span.end] == "4111 1111 1111 1111"


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 32 10.0.0.1 4111 1111 1111 1111 12/28",
        "4111111111111111 4111 1111 1111 1111",
        "ssn 460-89-9847 4111 1111 1111 1111 12/28 123",
    ],
)
def test_a_card_right_after_another_number_is_found_the_first_time(text):
    redactor = build_redactor(
        redaction_settings(PII_ENTITY_TYPES="CREDIT_DEBIT_NUMBER,SSN,IP_ADDRESS,INTERNATIONAL_BANK_ACCOUNT_NUMBER"),
        "inbound",
    )
    once = redactor.redact(text, now=NOW).text
    assert "4111" not in once and redactor.redact(once, now=NOW).text == once


def test_a_number_that_stands_alone_only_once_its_neighbour_is_masked_is_masked_the_first_time():
    redactor = build_redactor(redaction_settings(PII_ENTITY_TYPES="INTERNATIONAL_BANK_ACCOUNT_NUMBER,PHONE"), "inbound")
    once = redactor.redact("GB82 WEST 1234 5698 7654 32 1 000000 12/28", now=NOW).text
    assert once == "[INTERNATIONAL_BANK_ACCOUNT_NUMBER] [PHONE]"  # the mask takes all of "12/28", not "12" of it
    assert redactor.redact(once, now=NOW).text == once


@pytest.mark.parametrize(
    "detection, text, masked",
    [
        (Detection("PHONE", 5, 17, 0.9), "call 555 123 4567/12 ok", "555 123 4567/12"),
        (Detection("PHONE", 7, 21, 0.9), "ref 12/28 555 123 4567", "12/28 555 123 4567"),
        (Detection("CREDIT_DEBIT_NUMBER", 0, 19, 0.9), "4111 1111 1111 1111/12 ok", "4111 1111 1111 1111/12"),
    ],
)
def test_a_mask_never_ends_inside_a_slashed_number(detection, text, masked):
    [span] = merge([detection], text, {})
    assert text[span.start : span.end] == masked


def test_oversized_and_hostile_text_is_redacted_everywhere():
    filler = "0O" * 5000 + " " + "1 " * 3000 + "one " * 2000 + "x@" + "b." * 2000 + " "
    text = f"card {CARD} " + filler + f"ssn 460-89-9847 {filler} card {CARD}"
    masked = inbound().redact(text, now=NOW).text
    assert CARD not in masked and "460-89-9847" not in masked
    assert masked.count("[CREDIT_DEBIT_NUMBER]") >= 2 and "[SSN]" in masked


def test_text_without_pii_is_returned_unchanged():
    for text in ("", "hello", "order 12345 total $25.00", "😀", "call me at 10:30"):
        result = inbound().redact(text, now=NOW)
        assert result.text == text and result.entity_counts == {} and not result.changed


def test_outbound_direction_uses_its_own_types():
    text = f"your card {CARD} and email jane@example.com"
    assert build_redactor(redaction_settings(), "outbound").redact(text, now=NOW).text == text  # off by default
    outbound = build_redactor(redaction_settings(PII_OUTBOUND_ENTITY_TYPES="EMAIL"), "outbound")
    assert outbound.redact(text, now=NOW).text == f"your card {CARD} and email [EMAIL]"
    with pytest.raises(ValueError):
        build_redactor(redaction_settings(), "sideways")


def test_unknown_entity_type_fails_fast_naming_the_variable():
    with pytest.raises(settings.SettingsError, match="PII_ENTITY_TYPES"):
        redaction_settings(PII_ENTITY_TYPES="CREDIT_DEBIT_NUMBER,CREDIT_CARD")


def test_mask_template_with_digits_is_refused():
    with pytest.raises(settings.SettingsError, match="PII_MASK_TEMPLATE"):
        redaction_settings(PII_MASK_TEMPLATE="[{type}-1]")


# ---------------------------------------------------------------------------------------------- context across messages


def conversation(redactor: Redactor, messages: Sequence[tuple[float, str]]) -> list[str]:
    context, out = None, []
    for seconds, text in messages:
        result = redactor.redact(text, context, NOW + seconds)
        context = RedactionContext.from_item(
            json.loads(json.dumps(result.context.to_item()))
        )  # as the session stores it
        out.append(result.text)
    return out


def visible_digits(texts: list[str]) -> str:
    return "".join(re.findall(r"\d", " ".join(texts)))


@pytest.mark.parametrize(
    "pieces",
    [
        ["4111 1111", "1111 1111"],
        ["4111", "1111", "1111", "1111"],
        ["4111 11", "11 1111 1111"],
        ["my card is 4111 1111", "1111", "1111"],
        ["4111 1111 1111", "1111"],
        ["card number", "4111 1111", "1111 1111"],
    ],
)
def test_split_card_never_shows_more_than_the_first_six_digits(pieces):
    shown = conversation(inbound(), [(i * 10.0, piece) for i, piece in enumerate(pieces)])
    assert len(visible_digits(shown)) <= 6
    assert "411111".startswith(visible_digits(shown))


@pytest.mark.parametrize(
    "pieces",
    [
        ["ok here goes 4111", "1111", "1111", "1111"],
        ["sure, so 5156 10", "7447 9484 27"],
        ["ok here goes 2221", "then 0000 1111 2222"],
    ],
)
def test_a_message_ending_in_a_card_prefix_masks_the_digits_that_follow(pieces):
    shown = conversation(inbound(), [(i * 10.0, piece) for i, piece in enumerate(pieces)])
    assert len(visible_digits(shown)) <= 6


@pytest.mark.parametrize(
    "messages",
    [
        ["model number XR-2531-04", "call me at (123) 121-7992"],
        ["reference 3534/27", "part no. 447-054-8002-B"],
        ["ship to zip 23934", "my phone is +44 20 4429 2178", "order 5512 shipped?"],
        ["it says error code 2379", "USPS tracking number 2465 9719 4385 8270 7396 62"],
    ],
)
def test_codes_that_merely_look_like_a_card_prefix_leave_ordinary_messages_alone(messages):
    assert conversation(inbound(), [(i * 10.0, text) for i, text in enumerate(messages)]) == messages


def test_cvv_and_expiry_after_a_card_are_masked():
    shown = conversation(inbound(), [(0, f"card {CARD}"), (20, "12/29"), (30, "123"), (40, "thanks!")])
    assert shown == ["card [CREDIT_DEBIT_NUMBER]", "[CREDIT_DEBIT_EXPIRY]", "[CREDIT_DEBIT_CVV]", "thanks!"]


def test_card_context_is_bounded_in_time():
    shown = conversation(
        inbound(PII_CARD_CONTEXT_SECONDS="60"), [(0, f"card {CARD}"), (30, "123"), (200, "order 555123")]
    )
    assert shown[1] == "[CREDIT_DEBIT_CVV]" and shown[2] == "order 555123"


def test_card_context_is_bounded_in_messages():
    messages = [(0, f"card {CARD}")] + [(i, "I said hello") for i in range(1, 6)] + [(7, "order 555123")]
    assert conversation(inbound(PII_CARD_CONTEXT_MESSAGES="5"), messages)[-1] == "order 555123"


def test_amounts_stay_visible_in_card_context():
    shown = conversation(inbound(), [(0, f"card {CARD}"), (10, "it was $25.00, or 1,299.99 in total")])
    assert shown[1] == "it was $25.00, or 1,299.99 in total"


def test_card_context_can_be_switched_off():
    shown = conversation(inbound(PII_CARD_CONTEXT_SECONDS="0"), [(0, "4111 1111"), (10, "1111 1111")])
    assert shown == ["4111 1111", "1111 1111"]


def test_context_holds_only_numbers_and_no_pii():
    result = inbound().redact(f"card {CARD} cvv 123", now=NOW)
    item = result.context.to_item()
    assert set(item) == {"card_context_until", "card_messages_left", "redacted_messages", "card_context_soft"}
    assert all(isinstance(v, (int, bool)) for v in item.values())
    assert CARD not in json.dumps(item) and "123" not in json.dumps(item).replace(str(int(NOW + 180)), "")


@pytest.mark.parametrize(
    "item",
    [
        None,
        {},
        {"card_context_until": "soon"},
        {"card_context_until": float("nan")},
        {"card_messages_left": -3},
        "garbage",
        {"card_context_until": 10**30},
    ],
)
def test_context_from_a_malformed_item_is_a_fresh_context(item):
    context = RedactionContext.from_item(item)
    assert context.card_messages_left >= 0 and context.card_context_until >= 0


def test_context_round_trips_through_dynamodb_numbers():
    from decimal import Decimal

    stored = {k: Decimal(v) for k, v in RedactionContext(NOW + 60, 3, 2).to_item().items()}  # as boto3 reads them back
    context = RedactionContext.from_item(stored)
    assert context == RedactionContext(float(int(NOW + 60)), 3, 2) and context.card_context_active(NOW)


def test_context_from_an_old_item_without_message_count_is_armed():
    assert RedactionContext.from_item({"card_context_until": NOW + 60}).card_context_active(NOW)


# ---------------------------------------------------------------------------------------------- engines


@pytest.fixture
def comprehend():
    client = aws.client("comprehend")
    with Stubber(client) as stubber:
        yield client, stubber


def with_comprehend(client, engine: str, **env) -> Redactor:
    config = redaction_settings(PII_ENGINE=engine, **env)
    adapter = ComprehendPii(lambda: client, config.language, config.min_score, config.entity_types)
    return build_redactor(config, "inbound", comprehend=adapter)


def test_local_engine_never_builds_a_comprehend_client():
    inbound().redact(f"card {CARD} my password is hunter22", now=NOW)
    assert "comprehend" not in aws._clients


def test_comprehend_engine_builds_its_client_lazily():
    redactor = build_redactor(redaction_settings(PII_ENGINE="comprehend"), "inbound")
    assert "comprehend" not in aws._clients
    assert redactor.redact("😀", now=NOW).text == "😀"  # nothing worth a billed call
    assert "comprehend" not in aws._clients


def test_comprehend_engine_masks_what_comprehend_finds(comprehend):
    client, stubber = comprehend
    text = "my passport is in the drawer, number K1234567"
    begin = text.index("K1234567")
    stubber.add_response(
        "detect_pii_entities",
        {"Entities": [{"Type": "PASSPORT_NUMBER", "Score": 0.97, "BeginOffset": begin, "EndOffset": begin + 8}]},
        {"Text": text, "LanguageCode": "en"},
    )
    result = with_comprehend(client, "comprehend").redact(text, now=NOW)
    assert result.text == "my passport is in the drawer, number [PASSPORT_NUMBER]"


def test_both_engines_union_their_detections(comprehend):
    client, stubber = comprehend
    text = f"card {CARD} and passport no: K1234567 ok"
    begin = text.index("K1234567")
    stubber.add_response(
        "detect_pii_entities",
        {
            "Entities": [{"Type": "PASSPORT_NUMBER", "Score": 0.9, "BeginOffset": begin, "EndOffset": begin + 5}]
        },  # stops short
        {"Text": text, "LanguageCode": "en"},
    )
    result = with_comprehend(client, "both").redact(text, now=NOW)
    assert result.text == "card [CREDIT_DEBIT_NUMBER] and passport no: [PASSPORT_NUMBER] ok"


@pytest.mark.parametrize("code, transient", [("ThrottlingException", True), ("InvalidRequestException", False)])
def test_comprehend_alone_failing_is_unavailable_never_unredacted(comprehend, captured_logs, code, transient):
    client, stubber = comprehend
    text = "my passport number is K1234567"
    stubber.add_client_error("detect_pii_entities", service_error_code=code, service_message="K1234567")
    with pytest.raises(RedactionUnavailable) as info:
        with_comprehend(client, "comprehend").redact(text, now=NOW)
    assert info.value.transient is transient and "K1234567" not in str(info.value)
    captured_logs.assert_absent("K1234567")


def test_both_engines_degrade_to_local_when_comprehend_fails(comprehend, captured_logs):
    client, stubber = comprehend
    text = f"card {CARD} ssn 460-89-9847"
    stubber.add_client_error("detect_pii_entities", service_error_code="ThrottlingException", http_status_code=400)
    result = with_comprehend(client, "both").redact(text, now=NOW)
    assert result.text == "card [CREDIT_DEBIT_NUMBER] ssn [SSN]" and result.degraded
    assert any(
        e["event"] == "redaction_degraded" and e["error"] == "ThrottlingException" for e in captured_logs.events()
    )
    captured_logs.assert_absent(CARD, "460-89-9847")


def test_redactor_needs_an_adapter_for_comprehend_engines():
    with pytest.raises(ValueError):
        Redactor(frozenset({"SSN"}), engine="comprehend")


def test_canary_pii_never_reaches_the_logs(captured_logs):
    canaries = [CARD, "460-89-9847", "hunter22", "DE89370400440532013000"]
    redactor = build_redactor(redaction_settings(PII_ENTITY_TYPES="CREDIT_DEBIT_NUMBER,SSN,PASSWORD,NAME"), "inbound")
    redactor.redact(f"card {CARD} ssn 460-89-9847 password: hunter22 iban DE89370400440532013000", now=NOW)
    captured_logs.assert_absent(*canaries)
    events = captured_logs.events()
    assert any(e["event"] == "pii_types_not_detected_locally" and e["types"] == ["NAME"] for e in events)
