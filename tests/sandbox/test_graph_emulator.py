"""The Graph Send API emulator checks what Meta checks, and records what the customer receives."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import requests

from sandbox.graph import GraphEmulator
from sandbox.httpkit import Response, Router, serve, url_of

TOKEN, SECRET, PSID = "page-token", "app-secret", "7000000000000001"
PROOF = hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def graph():
    emulator = GraphEmulator(TOKEN, SECRET)
    emulator.register_customer(PSID)
    server = serve("test-graph", "127.0.0.1", 0, emulator.router())
    yield emulator, url_of(server) + "/v25.0/me/messages"
    server.shutdown()
    server.server_close()


def send(url, body, token=TOKEN, proof=PROOF):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        url, params={"appsecret_proof": proof} if proof else None, json=body, headers=headers, timeout=5
    )


TEXT: dict[str, Any] = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "hello"}}


def test_a_text_reaches_the_customer(graph):
    emulator, url = graph
    answer = send(url, TEXT)
    assert answer.status_code == 200 and answer.json()["recipient_id"] == PSID
    assert [m.text for m in emulator.messages_for(PSID)] == ["hello"]


def test_token_in_the_body_and_proof_in_the_body_are_accepted(graph):
    emulator, url = graph
    answer = requests.post(url, json={**TEXT, "access_token": TOKEN, "appsecret_proof": PROOF}, timeout=5)
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "token,proof,code", [(None, PROOF, 2500), ("wrong", PROOF, 190), (TOKEN, None, 100), (TOKEN, "0" * 64, 100)]
)
def test_auth_failures_answer_graph_errors(graph, token, proof, code):
    emulator, url = graph
    answer = send(url, TEXT, token, proof)
    assert answer.json()["error"]["code"] == code
    assert emulator.messages_for(PSID) == []


@pytest.mark.parametrize(
    "body,code,subcode",
    [
        ({**TEXT, "recipient": {"id": "999"}}, 100, 2018001),
        ({**TEXT, "message": {"text": "x" * 2000}}, 100, None),
        ({k: v for k, v in TEXT.items() if k != "messaging_type"}, 100, None),
        ({**TEXT, "messaging_type": "MESSAGE_TAG"}, 100, None),
        (
            {**TEXT, "message": {"attachment": {"type": "image", "payload": {"url": "http://127.0.0.1:9/x"}}}},
            100,
            2018008,
        ),
    ],
)
def test_bad_sends_are_refused_like_graph(graph, body, code, subcode):
    _emulator, url = graph
    error = send(url, body).json()["error"]
    assert error["code"] == code and error.get("error_subcode") == subcode


def test_typing_and_attachments_by_url(graph):
    emulator, url = graph
    files = Router()
    files.add("GET", "/file.png", lambda r: Response(200, b"\x89PNG-data", {"Content-Type": "image/png"}))
    server = serve("test-files", "127.0.0.1", 0, files)
    try:
        assert send(url, {"recipient": {"id": PSID}, "sender_action": "typing_on"}).status_code == 200
        attachment = {"attachment": {"type": "image", "payload": {"url": url_of(server) + "/file.png"}}}
        answer = send(url, {**TEXT, "message": attachment})
        assert answer.status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    typing, image = emulator.messages_for(PSID)
    assert typing.sender_action == "typing_on"
    assert emulator.media(image.message_id) == (b"\x89PNG-data", "image/png")


def test_form_encoded_sends_work_too(graph):
    emulator, url = graph
    form = {
        "recipient": json.dumps({"id": PSID}),
        "messaging_type": "RESPONSE",
        "message": json.dumps({"text": "form"}),
        "access_token": TOKEN,
        "appsecret_proof": PROOF,
    }
    assert requests.post(url, data=form, timeout=5).status_code == 200
    assert emulator.messages_for(PSID)[0].text == "form"
