"""Issue 17, ids that cannot be stored, through the whole route: a signed batch holding an item whose
`sender.id` or `mid` is a lone surrogate (JSON allows `\\ud800`) or longer than a DynamoDB key allows, beside
an ordinary message. Before the fix the batch answered 500 (the dedupe key's UTF-8 encoding raised, or
DynamoDB refused the key) and Meta retried it forever; the ordinary message never reached the agent.

tests/adversarial/test_ids.py holds the parser's side; this file holds the answer Meta gets and what the
agent and the sessions table see, with moto's DynamoDB behind the real session store and dedupe log.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from chalicelib.messaging.meta import webhook
from chalicelib.messaging.meta.webhook import MAX_ID_BYTES
from tests.messaging.fixtures import (
    body_of,
    connect_stubbed_behind_aws,
    connection_response,
    create_messenger_secret,
    envelope,
    item,
    sign,
    start_chat_response,
    text_item,
)
from tests.sessions_table import create_sessions_table, table_items

UNSTORABLE = {
    "lone surrogate sender": item("\ud800", message={"mid": "m_bad", "text": "from nowhere"}),
    "lone surrogate mid": text_item("from nowhere", mid="m_\udfff"),
    "sender over the key size": item("9" * (MAX_ID_BYTES * 2 + 1), message={"mid": "m_bad", "text": "from nowhere"}),
    "mid over the key size": text_item("from nowhere", mid="m_" + "x" * (MAX_ID_BYTES * 2)),
}


@pytest.fixture
def route(chalice_client, monkeypatch):
    with mock_aws():
        create_sessions_table()
        create_messenger_secret()
        with connect_stubbed_behind_aws(monkeypatch) as (connect, participant):
            yield chalice_client.http, connect, participant


def expect_one_message(connect, participant) -> None:
    """One chat started and one message sent (the Stubbers refuse a second, and fail on one not made)."""
    connect.add_response("start_chat_contact", start_chat_response("contact-1", "ptoken"))
    connect.add_response("start_contact_streaming", {"StreamingId": "s"})
    participant.add_response("create_participant_connection", connection_response("ctoken"))
    participant.add_response("send_message", {"Id": "msg"})


def post(http, *items: dict):
    body = body_of(envelope(*items))
    return http.post(
        "/webhook/messenger", body=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
    )


@pytest.mark.parametrize("bad", list(UNSTORABLE.values()), ids=list(UNSTORABLE))
def test_the_batch_answers_200_and_the_ordinary_message_reaches_the_agent(route, bad):
    http, connect, participant = route
    expect_one_message(connect, participant)
    response = post(http, bad, text_item("hello", mid="m_good"))
    assert response.status_code == 200  # was 500 for the whole batch, retried by Meta for ever
    keys = [i["pk"]["S"] for i in table_items()]
    assert any(k.startswith("customer#") for k in keys)  # the ordinary message started its chat
    assert all(k.isascii() and len(k.encode()) <= 2048 for k in keys)


FAILED_BEFORE = [name for name in UNSTORABLE if name != "mid over the key size"]


@pytest.mark.parametrize("name", FAILED_BEFORE)
def test_without_the_check_the_batch_failed(route, monkeypatch, name):
    """The finding, reproduced by switching the check off: the same batch answers 500. (A long `mid` alone
    did not: the stores key it by a hash; it is refused all the same, as no real mid is near 1 KiB.)"""
    bad = UNSTORABLE[name]
    monkeypatch.setattr(webhook, "storable", lambda value: True)
    assert post(route[0], bad, text_item("hello", mid="m_good")).status_code == 500
