"""GET/POST /webhook/messenger through the Chalice test client, with moto (DynamoDB, Secrets Manager) and
Stubbers for Connect: status codes, hostile input, the whole path, failures and retries, canaries in logs."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib import aws
from chalicelib.messaging import wiring
from chalicelib.messaging.inbound import InboundMessages
from chalicelib.redaction.redactor import build_redactor
from chalicelib.settings import load as load_settings
from tests.messaging import connect_expectations
from tests.messaging.fakes import MemoryChat, MemoryDedupe, MemoryForwarder, MemorySessions
from tests.messaging.fixtures import (
    SECRET,
    body_of,
    connect_stubbed_behind_aws,
    create_messenger_secret,
    echo_item,
    envelope,
    item,
    sign,
    text_item,
)
from tests.sessions_table import create_sessions_table, table_items

CARD = "4111 1111 1111 1111"
SSN = "123-45-6789"
PARTICIPANT_TOKEN = "ptoken-canary-0b7d"
CONNECTION_TOKEN = "ctoken-canary-4e2a"
VERIFY = {"hub.mode": "subscribe", "hub.verify_token": SECRET["VERIFY_TOKEN"], "hub.challenge": "1158201444"}


@pytest.fixture
def messenger(chalice_client, monkeypatch):
    """The app with moto behind it and Stubbers for both Connect services."""
    with mock_aws():
        create_sessions_table()
        create_messenger_secret()
        with connect_stubbed_behind_aws(monkeypatch) as (connect_stub, participant_stub):
            yield SimpleNamespace(http=chalice_client.http, connect=connect_stub, participant=participant_stub)


def get(messenger, query):
    from urllib.parse import urlencode

    return messenger.http.get("/webhook/messenger" + ("?" + urlencode(query) if query else ""))


def post(messenger, body: bytes, signature: str | None = "sign", content_type="application/json"):
    headers = {"Content-Type": content_type}
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return messenger.http.post("/webhook/messenger", body=body, headers=headers)


# This module's chats carry the canary tokens (never to be seen in a log).
def expect_new_chat(messenger, contact_id="contact-1"):
    connect_expectations.expect_new_chat(messenger, contact_id, PARTICIPANT_TOKEN, CONNECTION_TOKEN)


def expect_send(messenger, content):
    connect_expectations.expect_send(messenger, content, CONNECTION_TOKEN)


# ------------------------------------------------------------------------------------------ GET verification


def test_verification_answers_the_challenge_as_plain_text(messenger):
    response = get(messenger, VERIFY)
    assert response.status_code == 200
    assert response.body == b"1158201444"
    assert response.headers["Content-Type"] == "text/plain"


@pytest.mark.parametrize(
    "changes, status",
    [
        ({"hub.verify_token": "wrong"}, 403),
        ({"hub.mode": "unsubscribe"}, 403),
        ({"hub.verify_token": SECRET["VERIFY_TOKEN"] + "x"}, 403),
        ({"hub.challenge": None}, 400),
        ({"hub.verify_token": None}, 400),
        ({"hub.mode": None}, 400),
    ],
)
def test_verification_refusals(messenger, changes, status):
    query = {k: v for k, v in {**VERIFY, **changes}.items() if v is not None}
    response = get(messenger, query)
    assert response.status_code == status
    assert b"1158201444" not in response.body


def test_verification_without_a_query_string_is_a_bad_request(messenger):
    assert get(messenger, None).status_code == 400


# ------------------------------------------------------------------------------------------ POST refusals


def test_unsigned_and_wrongly_signed_posts_are_forbidden_before_parsing(messenger):
    body = body_of(envelope(text_item("hello")))
    assert post(messenger, body, signature=None).status_code == 403
    assert post(messenger, body, signature=sign(body, "not-the-secret")).status_code == 403
    assert post(messenger, body, signature="sha1=" + sign(body)[7:47]).status_code == 403
    assert post(messenger, b"{not json", signature=None).status_code == 403  # no 400: nothing was parsed
    assert table_items() == []


def test_oversized_body_is_refused(messenger):
    body = b'{"object":"page","entry":[],"pad":"' + b"x" * (1024 * 1024) + b'"}'
    assert post(messenger, body).status_code == 413


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1,2]", b'{"object":"user","entry":[]}'])
def test_signed_garbage_is_a_bad_request(messenger, body):
    assert post(messenger, body).status_code == 400


def test_other_content_types_are_refused_and_charset_is_accepted(messenger):
    body = body_of(envelope(item(read={"watermark": 1})))
    assert post(messenger, body, content_type="text/plain").status_code == 415
    assert post(messenger, body, content_type="application/json; charset=UTF-8").status_code == 200


# ------------------------------------------------------------------------------------------ the whole path


def test_a_batch_is_processed_in_order_and_only_customer_messages_reach_connect(messenger):
    expect_new_chat(messenger)
    expect_send(messenger, "first")
    expect_send(messenger, "[customer sent a sticker]")  # a sticker is not relayed as a file: no download
    body = body_of(
        envelope(
            echo_item(),
            text_item("first", mid="m_1"),
            item(delivery={"mids": ["m_x"], "watermark": 1}),
            item(read={"watermark": 1}),
            item(reaction={"reaction": "like", "action": "react", "mid": "m_1"}),
            item(
                message={
                    "mid": "m_2",
                    "attachments": [
                        {"type": "image", "payload": {"url": "https://cdn/x.png", "sticker_id": 369239263222822}}
                    ],
                }
            ),
        )
    )
    response = post(messenger, body)
    assert response.status_code == 200 and response.body == b"EVENT_RECEIVED"
    kinds = {i["pk"]["S"].split("#")[0] for i in table_items()}
    assert kinds == {"customer", "contact", "dedupe", "turn"}  # turn: the customer's turn (store/sessions.py)


def test_standby_entries_are_ignored(messenger):
    assert post(messenger, body_of(envelope(text_item("hi"), standby=True))).status_code == 200
    assert table_items() == []


def test_duplicate_post_reaches_the_agent_once(messenger):
    expect_new_chat(messenger)
    expect_send(messenger, "hello")
    body = body_of(envelope(text_item("hello", mid="m_1")))
    assert post(messenger, body).status_code == 200
    assert post(messenger, body).status_code == 200  # Stubber would fail on a second SendMessage


def test_transient_connect_failure_answers_503_and_the_retry_delivers_once(messenger):
    expect_new_chat(messenger)
    messenger.participant.add_client_error("send_message", "ThrottlingException", "slow down", 429)
    body = body_of(envelope(text_item("hello", mid="m_1"), text_item("after", mid="m_2")))
    assert post(messenger, body).status_code == 503

    expect_send(messenger, "hello")
    expect_send(messenger, "after")
    assert post(messenger, body).status_code == 200
    assert post(messenger, body).status_code == 200


def test_ended_chat_is_recovered_through_the_route(messenger):
    expect_new_chat(messenger)
    expect_send(messenger, "one")
    assert post(messenger, body_of(envelope(text_item("one", mid="m_1")))).status_code == 200

    messenger.participant.add_client_error("send_message", "AccessDeniedException", "terminated", 403)
    messenger.participant.add_client_error("create_participant_connection", "AccessDeniedException", "terminated", 403)
    messenger.participant.add_client_error("disconnect_participant", "AccessDeniedException", "terminated", 403)
    expect_new_chat(messenger, "contact-2")
    expect_send(messenger, "two")
    assert post(messenger, body_of(envelope(text_item("two", mid="m_2")))).status_code == 200
    pks = {i["pk"]["S"] for i in table_items()}
    assert {"contact#contact-1", "contact#contact-2"} <= pks


def test_permanent_connect_refusal_answers_200_with_a_reason_code(messenger, captured_logs):
    expect_new_chat(messenger)
    messenger.participant.add_client_error("send_message", "ValidationException", "bad", 400)
    assert post(messenger, body_of(envelope(text_item("hello", mid="m_1")))).status_code == 200
    rejected = [e for e in captured_logs.events() if e["event"] == "message_rejected"]
    assert rejected and rejected[0]["reason"] == "connect_rejected"


class _Throttled:
    """A client whose every call is throttled."""

    def __init__(self, code="ThrottlingException"):
        self._code = code

    def __getattr__(self, operation):
        def call(**_):
            raise ClientError(
                {"Error": {"Code": self._code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
            )

        return call


def test_dynamodb_throttling_answers_503(messenger, monkeypatch):
    real = aws.client
    monkeypatch.setattr(
        aws, "client", lambda s: _Throttled("ProvisionedThroughputExceededException") if s == "dynamodb" else real(s)
    )
    assert post(messenger, body_of(envelope(text_item("hello", mid="m_1")))).status_code == 503


def test_secrets_manager_throttling_answers_503(messenger, monkeypatch):
    real = aws.client
    monkeypatch.setattr(aws, "client", lambda s: _Throttled() if s == "secretsmanager" else real(s))
    assert post(messenger, body_of(envelope(text_item("hello")))).status_code == 503
    assert get(messenger, VERIFY).status_code == 503


def test_missing_secret_answers_500_so_meta_keeps_the_messages(messenger, monkeypatch):
    monkeypatch.setenv("MESSENGER_SECRET_ID", "no-such-secret")  # Chalice applies stage env over it
    wiring.reset()
    real = aws.client
    monkeypatch.setattr(
        aws, "client", lambda s: _Throttled("ResourceNotFoundException") if s == "secretsmanager" else real(s)
    )
    assert post(messenger, body_of(envelope(text_item("hello")))).status_code == 500


def test_missing_setting_answers_500_naming_the_variable(monkeypatch, captured_logs):
    from chalice.test import Client

    from app import app
    from tests.support import PROJECT_DIR

    monkeypatch.delenv("CONNECT_INSTANCE_ID", raising=False)  # the `dev` stage sets none
    wiring.reset()
    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        response = client.http.get("/webhook/messenger?hub.mode=subscribe")
    assert response.status_code == 500
    assert any(e.get("variable") == "CONNECT_INSTANCE_ID" for e in captured_logs.events())


# ------------------------------------------------------------------------------------------ privacy


def test_no_card_ssn_token_or_secret_reaches_the_logs(messenger, captured_logs):
    expect_new_chat(messenger)
    expect_send(messenger, "card [CREDIT_DEBIT_NUMBER] and ssn [SSN]")
    text = f"card {CARD} and ssn {SSN}"
    assert post(messenger, body_of(envelope(text_item(text, mid="m_1")))).status_code == 200
    # A refused one and a forged one log too.
    assert post(messenger, body_of(envelope(text_item(text, mid="m_2"))), signature=sign(b"x")).status_code == 403
    assert get(messenger, {**VERIFY, "hub.verify_token": "wrong " + SSN}).status_code == 403
    assert get(messenger, VERIFY).status_code == 200

    assert any(e["event"] == "webhook_processed" for e in captured_logs.events())
    captured_logs.assert_absent(
        CARD, CARD.replace(" ", ""), SSN, "card ", PARTICIPANT_TOKEN, CONNECTION_TOKEN, *SECRET.values()
    )


# ------------------------------------------------------------------------------------------ fuzzing through the route


@pytest.fixture
def fake_backed(chalice_client, monkeypatch):
    """The real route, parser and use case over in-memory adapters (fast enough to fuzz)."""
    chat = MemoryChat()
    inbound = InboundMessages(
        MemorySessions(), MemoryDedupe(), chat, build_redactor(load_settings().redaction), MemoryForwarder()
    )
    monkeypatch.setattr(wiring, "inbound_messages", lambda *args: inbound)
    with mock_aws():
        create_messenger_secret()
        yield SimpleNamespace(http=chalice_client.http, chat=chat)


_scalar = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
_value = st.recursive(
    _scalar,
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "mid",
                    "text",
                    "id",
                    "message",
                    "postback",
                    "attachments",
                    "type",
                    "payload",
                    "is_echo",
                    "title",
                    "read",
                    "delivery",
                    "reaction",
                    "quick_reply",
                    "url",
                ]
            ),
            c,
            max_size=4,
        )
    ),
    max_leaves=15,
)
_message = _value | st.fixed_dictionaries(
    {"mid": st.text(min_size=1, max_size=6), "text": st.text(max_size=40)},
    optional={"quick_reply": _value, "attachments": _value, "is_echo": st.booleans(), "reply_to": _value},
)
_item = st.fixed_dictionaries(
    {"sender": st.fixed_dictionaries({"id": st.sampled_from(["p1", "p2"])})},
    optional={"message": _message, "postback": _value, "timestamp": _scalar, "read": _value},
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.lists(_item, max_size=4) | st.lists(_value, max_size=3))
def test_fuzzed_signed_payloads_never_answer_500(fake_backed, items):
    body = json.dumps({"object": "page", "entry": [{"id": "1", "messaging": items}]}).encode()
    response = fake_backed.http.post(
        "/webhook/messenger", body=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
    )
    assert response.status_code == 200
