"""Connect chat gateway against botocore Stubbers (every request is validated against the service model)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.messaging.connect.chat import ChatGone, ConnectChat, client_token, split_for_connect
from chalicelib.messaging.errors import ConfigurationError, PermanentError, TransientError
from tests.messaging.connect_expectations import (
    connection_request,
    start_chat_request,
    streaming_request,
    text_request,
)
from tests.messaging.fixtures import (
    FLOW_ID,
    INSTANCE_ID,
    TOPIC_ARN,
    connection_response,
    start_chat_response,
    stubbed_client,
)


@pytest.fixture
def stubs():
    connect, connect_stub = stubbed_client("connect")
    participant, participant_stub = stubbed_client("connectparticipant")
    gateway = ConnectChat(connect, participant, INSTANCE_ID, FLOW_ID, TOPIC_ARN, 1500)
    with connect_stub, participant_stub:
        yield gateway, connect_stub, participant_stub
        connect_stub.assert_no_pending_responses()
        participant_stub.assert_no_pending_responses()


def test_start_chat_sends_the_documented_request(stubs):
    gateway, connect_stub, _ = stubs
    connect_stub.add_response("start_chat_contact", start_chat_response(), start_chat_request(client_token="tok"))
    started = gateway.start_chat("messenger", "Messenger customer", "tok")
    assert started.contact_id == "contact-1" and started.participant_token == "participant-token-1"
    assert "participant-token-1" not in repr(started)


def test_streaming_and_connection(stubs):
    gateway, connect_stub, participant_stub = stubs
    connect_stub.add_response(
        "start_contact_streaming",
        {"StreamingId": "s-1"},
        streaming_request("contact-1", client_token=client_token("stream", "contact-1")),
    )
    participant_stub.add_response(
        "create_participant_connection", connection_response(), connection_request("participant-token-1")
    )
    gateway.start_streaming("contact-1")
    connection = gateway.create_connection("participant-token-1")
    assert connection.connection_token == "connection-token-1"
    assert connection.expires_at > 0


def test_long_text_is_split_with_one_token_per_piece(stubs):
    gateway, _, participant_stub = stubs
    text = ("word " * 300).strip()  # 1499 chars
    pieces = split_for_connect(text)
    assert len(pieces) == 2
    for index, piece in enumerate(pieces):
        participant_stub.add_response(
            "send_message",
            {"Id": f"id-{index}"},
            text_request("ctoken", piece, client_token=client_token("m_1", str(index))),
        )
    assert gateway.send_text("ctoken", text, "m_1") == ["id-0", "id-1"]


@pytest.mark.parametrize(
    "service, code, status, expected",
    [
        ("participant", "AccessDeniedException", 403, ChatGone),
        ("participant", "ThrottlingException", 429, TransientError),
        ("participant", "InternalServerException", 500, TransientError),
        ("participant", "ValidationException", 400, PermanentError),
        ("connect", "ThrottlingException", 429, TransientError),
        ("connect", "LimitExceededException", 429, TransientError),
        ("connect", "InternalServiceException", 500, TransientError),
        ("connect", "ResourceNotFoundException", 404, ConfigurationError),
        ("connect", "AccessDeniedException", 403, ConfigurationError),
    ],
)
def test_errors_map_to_the_domain_set(stubs, service, code, status, expected):
    gateway, connect_stub, participant_stub = stubs
    if service == "connect":
        connect_stub.add_client_error("start_chat_contact", code, "chat secret-canary", http_status_code=status)
        call = lambda: gateway.start_chat("messenger", "Messenger customer", "tok")  # noqa: E731
    else:
        participant_stub.add_client_error("send_message", code, "chat secret-canary", http_status_code=status)
        call = lambda: gateway.send_text("ctoken", "hi", "m_1")  # noqa: E731
    with pytest.raises(expected) as info:
        call()
    assert info.value.code == code
    assert "secret-canary" not in str(info.value)


def test_timeouts_are_transient():
    from botocore.exceptions import ReadTimeoutError

    class Slow:
        def send_message(self, **_):
            raise ReadTimeoutError(endpoint_url="https://participant.connect")

    gateway = ConnectChat(None, Slow(), INSTANCE_ID, FLOW_ID, TOPIC_ARN, 1500)
    with pytest.raises(TransientError):
        gateway.send_text("ctoken", "hi", "m_1")


def test_client_tokens_are_deterministic_and_short():
    assert client_token("m_1", "0") == client_token("m_1", "0")
    assert client_token("m_1", "0") != client_token("m_1", "1")
    assert len(client_token("m" * 5000)) <= 500


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=3000))
def test_split_text_keeps_every_character_within_the_limit(text):
    pieces = split_for_connect(text, limit=100)
    for piece in pieces:
        assert len(piece.encode("utf-16-le")) // 2 <= 100
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
