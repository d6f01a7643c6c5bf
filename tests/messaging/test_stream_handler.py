"""connect_stream_handler through the Chalice test client (stage `local`), with moto for DynamoDB and
Secrets Manager, Stubbers for Connect and `responses` for Graph, the Messenger CDN and presigned PUTs.
Ends with a whole conversation: customer in, agent out, typing, files both ways, chat end, a new chat."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import responses
from botocore.stub import ANY
from moto import mock_aws

from chalicelib.messaging.meta import download_policy
from chalicelib.messaging.outbound import RetryLater
from tests.messaging import connect_expectations
from tests.messaging import stream_fixtures as sf
from tests.messaging.fixtures import (
    SECRET,
    body_of,
    connect_stubbed_behind_aws,
    create_messenger_secret,
    envelope,
    item,
    sign,
    text_item,
)
from tests.messaging.stream_fixtures import attachment, sns_event, stream_item
from tests.sessions_table import create_sessions_table, table_items

PSID = "psid-1"
SEND_URL = "https://graph.facebook.com/v25.0/me/messages"
PARTICIPANT_TOKEN = "ptoken-canary-stream-1"
CONNECTION_TOKEN = "ctoken-canary-stream-2"
CDN_URL = "https://lookaside.fbsbx.com/photo.png?sig=cdn-canary"
UPLOAD_URL = "https://staging.connect.test/up/att-c1?X-Amz-Signature=put-canary"
AGENT_FILE_URL = "https://attachments.connect.test/att-a1?X-Amz-Signature=get-canary"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 512


@pytest.fixture
def stack(chalice_client, monkeypatch):
    # Meta's CDN name resolves to a public address (no DNS in tests); `responses` serves the file.
    monkeypatch.setattr(download_policy, "system_resolver", lambda host, port: ["157.240.0.1"])
    with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as web:
        create_sessions_table()
        create_messenger_secret()
        with connect_stubbed_behind_aws(monkeypatch) as (connect_stub, participant_stub):
            yield SimpleNamespace(client=chalice_client, connect=connect_stub, participant=participant_stub, web=web)


def stream(stack, *items):
    return stack.client.lambda_.invoke("connect_stream_handler", sns_event(*items))


def webhook(stack, *items):
    body = body_of(envelope(*items))
    return stack.client.http.post(
        "/webhook/messenger", body=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
    )


def graph_bodies(stack):
    return [json.loads(c.request.body) for c in stack.web.calls if c.request.url.startswith(SEND_URL)]


# This module's chats carry the canary tokens (never to be seen in a log).
def expect_new_chat(stack, contact_id):
    connect_expectations.expect_new_chat(stack, contact_id, PARTICIPANT_TOKEN, CONNECTION_TOKEN)


def expect_customer_text(stack, content):
    connect_expectations.expect_send(stack, content, CONNECTION_TOKEN)


def start_chat(stack, contact_id="contact-1", text="hello", mid="m_1"):
    expect_new_chat(stack, contact_id)
    expect_customer_text(stack, text)
    assert webhook(stack, text_item(text, mid=mid, psid=PSID)).status_code == 200


# ------------------------------------------------------------------------------------------- the entry point


def test_one_record_event_from_chalices_generator(stack):
    start_chat(stack)
    stack.web.post(SEND_URL, json={"message_id": "m_out"})
    message, attributes = stream_item("contact-1", content="Hi! I'm Jane.")
    event = stack.client.events.generate_sns_event(message=message, message_attributes=attributes)
    stack.client.lambda_.invoke("connect_stream_handler", event)
    assert graph_bodies(stack) == [
        {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi! I'm Jane."}}
    ]
    request = [c.request for c in stack.web.calls if c.request.url.startswith(SEND_URL)][0]
    assert (
        request.headers["Authorization"] == "Bearer " + SECRET["PAGE_TOKEN"] and SECRET["PAGE_TOKEN"] not in request.url
    )


def test_every_record_of_an_event_is_handled_not_only_the_first(stack):
    start_chat(stack)
    stack.web.post(SEND_URL, json={"message_id": "m_out"})
    stream(
        stack,
        stream_item("contact-1", content="one"),
        stream_item("contact-1", content="two"),
        stream_item("contact-1", role="CUSTOMER", content="hello"),
        stream_item("contact-1", content="three"),
    )
    assert [b["message"]["text"] for b in graph_bodies(stack)] == ["one", "two", "three"]


def test_transient_failure_raises_after_every_record_ran_and_the_retry_is_safe(stack, captured_logs):
    start_chat(stack)
    stack.web.post(SEND_URL, json={"message_id": "m_out"})
    for _ in range(4):
        stack.web.post(SEND_URL, json={"error": {"code": 2}}, status=502)
    stack.web.post(SEND_URL, json={"message_id": "m_out"})
    event = sns_event(
        stream_item("contact-1", content="one"),
        stream_item("contact-1", content="two"),
        stream_item("contact-1", content="three"),
    )
    with pytest.raises(RetryLater) as raised:
        stack.client.lambda_.invoke("connect_stream_handler", event)
    assert str(raised.value) == "1 of 3 stream records failed transiently; retrying"
    stack.client.lambda_.invoke("connect_stream_handler", event)  # Lambda's retry of the same event
    texts = [b["message"]["text"] for b in graph_bodies(stack)]
    assert texts.count("one") == 1 and texts.count("three") == 1 and texts[-1] == "two"


def test_malformed_records_never_crash_and_never_stop_the_good_ones(stack, captured_logs):
    # Chalice itself reads Records[0].Sns.Message/Subject before our code runs; SNS always sends both, so
    # the hostile parts are the Message and every later record.
    start_chat(stack)
    stack.web.post(SEND_URL, json={"message_id": "m_out"})
    message, attributes = stream_item("contact-1", content="still delivered")
    event = stack.client.events.generate_sns_event(message="not json", message_attributes=attributes)
    event["Records"] += [
        {},
        {"Sns": None},
        {"Sns": {"Message": "x" * 300_000}},
        sns_event((message, attributes))["Records"][0],
    ]
    stack.client.lambda_.invoke("connect_stream_handler", event)
    assert [b["message"]["text"] for b in graph_bodies(stack)] == ["still delivered"]
    reasons = [e["reason"] for e in captured_logs.events() if e["event"] == "stream_record_malformed"]
    assert reasons == ["message_not_json", "record_without_sns", "record_without_sns", "message_too_large"]


def test_missing_setting_fails_loudly_naming_the_variable(stack, monkeypatch, captured_logs):
    from chalice.test import Client

    from app import app
    from tests.support import PROJECT_DIR

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as bare, pytest.raises(Exception) as raised:
        bare.lambda_.invoke("connect_stream_handler", sns_event(stream_item("contact-1")))
    assert "CONNECT_INSTANCE_ID" in str(raised.value)
    assert any(
        e["event"] == "settings_invalid" and e["variable"] == "CONNECT_INSTANCE_ID" for e in captured_logs.events()
    )


# ------------------------------------------------------------------------------------------- a whole conversation


def test_full_conversation_both_ways_then_a_new_chat(stack, captured_logs):
    # 1. The customer writes: a chat starts, the card number is redacted before the agent sees it.
    expect_new_chat(stack, "contact-1")
    expect_customer_text(stack, "Hi, my card is [CREDIT_DEBIT_NUMBER]")
    assert webhook(stack, text_item("Hi, my card is 4111 1111 1111 1111", mid="m_1", psid=PSID)).status_code == 200
    stack.web.post(SEND_URL, json={"message_id": "m_out"})

    # 2. The agent types, then replies.
    stream(stack, stream_item("contact-1", content_type=sf.TYPING, content=None))
    stream(stack, stream_item("contact-1", content="Thanks! Could you send a photo of the receipt?"))

    # 3. The customer sends a photo: downloaded, typed from bytes, uploaded to Connect as a real attachment.
    stack.web.get(CDN_URL, body=PNG)
    stack.web.put(UPLOAD_URL, status=200)
    stack.participant.add_response(
        "start_attachment_upload",
        {
            "AttachmentId": "att-c1",
            "UploadMetadata": {
                "Url": UPLOAD_URL,
                "UrlExpiry": "2030-01-01T00:00:00Z",
                "HeadersToInclude": {"Content-Type": "image/png"},
            },
        },
        {
            "ConnectionToken": CONNECTION_TOKEN,
            "ContentType": "image/png",
            "AttachmentSizeInBytes": len(PNG),
            "AttachmentName": ANY,
            "ClientToken": ANY,
        },
    )
    stack.participant.add_response(
        "complete_attachment_upload",
        {},
        {"ConnectionToken": CONNECTION_TOKEN, "AttachmentIds": ["att-c1"], "ClientToken": ANY},
    )
    photo = item(PSID, message={"mid": "m_2", "attachments": [{"type": "image", "payload": {"url": CDN_URL}}]})
    assert webhook(stack, photo).status_code == 200
    put = [c.request for c in stack.web.calls if c.request.method == "PUT"]
    assert len(put) == 1 and put[0].headers["Content-Type"] == "image/png"
    # Connect streams the customer's own attachment back: never echoed to the customer.
    stream(stack, stream_item("contact-1", role="CUSTOMER", attachments=[attachment("att-c1")]))

    # 4. The agent sends a PDF: GetAttachment with the customer's connection, then by URL to Messenger.
    stack.participant.add_response(
        "get_attachment",
        {"Url": AGENT_FILE_URL, "UrlExpiry": "2030-01-01T00:00:00Z", "AttachmentSizeInBytes": 48_000},
        {"ConnectionToken": CONNECTION_TOKEN, "AttachmentId": "att-a1", "UrlExpiryInSeconds": 300},
    )
    stream(stack, stream_item("contact-1", attachments=[attachment("att-a1", "application/pdf", name="refund.pdf")]))

    # 5. The chat ends; the goodbye streamed in the same event still arrives, and the session closes.
    stream(
        stack,
        stream_item("contact-1", role="SYSTEM", content_type=sf.CHAT_ENDED, content=None),
        stream_item("contact-1", role="SYSTEM", content="The chat has ended. Thank you!"),
    )

    sent = graph_bodies(stack)
    assert sent[0] == {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    assert sent[1]["message"] == {"text": "Thanks! Could you send a photo of the receipt?"}
    assert sent[2]["message"] == {
        "attachment": {"type": "file", "payload": {"url": AGENT_FILE_URL, "is_reusable": False}}
    }
    assert sent[3]["message"] == {"text": "The chat has ended. Thank you!"}
    assert len(sent) == 4

    # 6. The customer writes again: a new chat, and the agent's reply on it reaches the customer.
    start_chat(stack, "contact-2", "one more question", "m_3")
    stream(stack, stream_item("contact-2", content="Sure, go ahead."))
    assert graph_bodies(stack)[-1]["message"] == {"text": "Sure, go ahead."}
    contacts = {i["pk"]["S"] for i in table_items() if i["pk"]["S"].startswith("contact#")}
    assert contacts == {"contact#contact-1", "contact#contact-2"}

    captured_logs.assert_absent(
        "4111 1111 1111 1111",
        "receipt",
        "cdn-canary",
        "put-canary",
        "get-canary",
        "refund.pdf",
        PARTICIPANT_TOKEN,
        CONNECTION_TOKEN,
        SECRET["PAGE_TOKEN"],
        SECRET["APP_SECRET"],
    )
