"""Through the real entry point: `message_processor` as Chalice (and so Lambda) invokes it with Connect's event."""

from __future__ import annotations

import json

import pytest

from tests.processor.helpers import CARD, CONTACT, content_of, event
from tests.sessions_table import table_items

ANSWER_KEYS = {"status", "result"}


def invoke(client, payload) -> dict:
    answer = client.lambda_.invoke("message_processor", payload).payload
    assert set(answer) == ANSWER_KEYS
    assert answer["status"] in ("PROCESSED", "APPROVED", "REJECTED")
    chat = answer["result"]["processedChatContent"]
    assert set(chat) == {"content", "contentType"} and isinstance(chat["content"], str)
    return answer


def test_nothing_to_change_is_approved_unchanged_without_a_dynamodb_call(chalice_client, table, captured_logs):
    answer = invoke(chalice_client, event("Hello, where is my parcel?"))
    assert answer == {
        "status": "APPROVED",
        "result": {"processedChatContent": {"content": "Hello, where is my parcel?", "contentType": "text/plain"}},
    }
    [line] = [e for e in captured_logs.events() if e["event"] == "message_processed"]
    assert line["round_trips"] == 0 and line["status"] == "APPROVED" and line["role"] == "CUSTOMER"
    assert table_items() == []


def test_a_customer_card_is_processed_with_the_same_content_type(chalice_client, table, captured_logs):
    answer = invoke(chalice_client, event(f"my card is {CARD} thanks"))
    assert answer["status"] == "PROCESSED"
    assert answer["result"]["processedChatContent"] == {
        "content": "my card is [CREDIT_DEBIT_NUMBER] thanks",
        "contentType": "text/plain",
    }
    [line] = [e for e in captured_logs.events() if e["event"] == "message_processed"]
    assert line["entities"] == {"CREDIT_DEBIT_NUMBER": 1} and line["round_trips"] <= 2
    assert line["contact_id"] == CONTACT and line["elapsed_ms"] >= 0
    captured_logs.assert_absent("4111", "my card is")


@pytest.mark.parametrize("role", ["AGENT", "SYSTEM", "CUSTOM_BOT", "SUPERVISOR", "SOMETHING_NEW", ""])
def test_other_roles_use_the_outbound_types_and_none_means_approved(chalice_client, table, role):
    answer = invoke(chalice_client, event(f"card {CARD}", role=role))
    assert answer["status"] == "APPROVED" and content_of(answer) == f"card {CARD}"


def test_outbound_types_mask_agent_messages(chalice_client, table, monkeypatch):
    monkeypatch.setenv("PII_OUTBOUND_ENTITY_TYPES", "EMAIL,CREDIT_DEBIT_NUMBER")
    answer = invoke(chalice_client, event(f"write to jane.doe@example.com, card {CARD}", role="AGENT"))
    assert answer["status"] == "PROCESSED"
    assert content_of(answer) == "write to [EMAIL], card [CREDIT_DEBIT_NUMBER]"


def test_reject_types_stop_an_agent_typing_a_card(chalice_client, table, monkeypatch):
    monkeypatch.setenv("PROCESSOR_REJECT_ENTITY_TYPES", "CREDIT_DEBIT_NUMBER")
    answer = invoke(chalice_client, event(f"the card on file is {CARD}", role="AGENT"))
    assert answer["status"] == "REJECTED" and "4111" not in json.dumps(answer)
    assert invoke(chalice_client, event("your order shipped", role="AGENT"))["status"] == "APPROVED"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "text",
        42,
        {},
        {"chatContent": None},
        {"chatContent": "x"},
        {"chatContent": {}},
        {"chatContent": {"content": None}},
        {"chatContent": {"content": 4111111111111111}},
        {"chatContent": {"content": ["a"], "contentType": "text/plain"}},
    ],
)
def test_malformed_events_are_rejected_by_default(chalice_client, table, payload):
    assert invoke(chalice_client, payload)["status"] == "REJECTED"


def test_malformed_event_with_approve_on_error_keeps_what_content_there_is(chalice_client, table, monkeypatch):
    monkeypatch.setenv("PROCESSOR_ON_ERROR", "approve")
    assert invoke(chalice_client, {"chatContent": {}})["status"] == "REJECTED"  # nothing to approve
    broken = event("hello")
    broken["chatContent"]["participantRole"] = 7  # an odd role is still judged (as not the customer)
    assert invoke(chalice_client, broken)["status"] == "APPROVED"


def test_oversized_content_is_rejected_even_when_errors_approve(chalice_client, table, monkeypatch):
    monkeypatch.setenv("PROCESSOR_ON_ERROR", "approve")
    answer = invoke(chalice_client, event("a" * (1024 * 1024 + 1)))
    assert answer["status"] == "REJECTED"


def test_a_dynamodb_outage_fails_closed_by_default_and_open_when_configured(chalice_client, monkeypatch):
    # No moto table here: every DynamoDB call fails.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    text = "then 4111 1111"
    assert invoke(chalice_client, event(text))["status"] == "REJECTED"
    assert invoke(chalice_client, event("no digits here"))["status"] == "APPROVED"  # never needed the store
    monkeypatch.setenv("PROCESSOR_ON_ERROR", "approve")
    from chalicelib.processor import wiring

    wiring.reset()
    answer = invoke(chalice_client, event(text))
    assert answer["status"] == "APPROVED" and content_of(answer) == text


def test_invalid_settings_reject_and_name_the_variable(chalice_client, table, monkeypatch, captured_logs):
    monkeypatch.setenv("PROCESSOR_REJECT_ENTITY_TYPES", "CREDIT_CARD")
    assert invoke(chalice_client, event("hello"))["status"] == "REJECTED"
    [line] = [e for e in captured_logs.events() if e["event"] == "processor_misconfigured"]
    assert line["variable"] == "PROCESSOR_REJECT_ENTITY_TYPES"


def test_unknown_content_types_are_approved_unchanged_and_counted(chalice_client, table, captured_logs):
    payload = event(f"{CARD}", content_type="application/vnd.example+xml")
    answer = invoke(chalice_client, payload)
    assert answer["status"] == "APPROVED" and content_of(answer) == CARD
    [line] = [e for e in captured_logs.events() if e["event"] == "message_processed"]
    assert line["reason"] == "content_type_not_processed"


def test_a_missing_content_type_is_never_approved_with_pii(chalice_client, table):
    assert invoke(chalice_client, event(f"card {CARD}", content_type=None))["status"] == "REJECTED"
    answer = invoke(chalice_client, event("just words", content_type=None))
    assert answer["status"] == "APPROVED"


def test_canaries_never_reach_the_logs(chalice_client, table, monkeypatch, captured_logs):
    monkeypatch.setenv("PII_OUTBOUND_ENTITY_TYPES", "EMAIL")
    canaries = ["canary-words-alpha", "4111 1111 1111 1111", "canary.person@example.com", "078-05-1120"]
    invoke(chalice_client, event(f"canary-words-alpha {canaries[1]} {canaries[3]}"))
    invoke(chalice_client, event("mail canary.person@example.com", role="AGENT"))
    invoke(chalice_client, event('{"t": "canary-words-alpha 4111 1111 1111 1111"}', "application/json"))
    invoke(chalice_client, event("**canary-words-alpha** 4111 1111 1111 1111", "text/markdown"))
    invoke(chalice_client, event("{broken canary-words-alpha", "application/json"))
    captured_logs.assert_absent(*canaries, "4111", "canary")


def test_a_failure_is_logged_by_reason_and_aws_error_code(chalice_client, monkeypatch, captured_logs):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    invoke(chalice_client, event("then 4111 1111"))
    [line] = [e for e in captured_logs.events() if e["event"] == "message_processed"]
    assert line["level"] == "WARNING" and line["reason"] == "store_unavailable" and line["status"] == "REJECTED"
    assert line["error"] and line["error"] != "StoreUnavailable"
