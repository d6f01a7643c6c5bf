"""Connect calls queued on botocore Stubbers: the requests ConnectChat makes to start a chat and send a
customer's text, and the answers it gets. One place for them, so every test expects the same requests.

`stubs` is any object with `connect` and `participant` Stubbers (each test module's world or fixture):

    expect_new_chat(world)                # StartChatContact, StartContactStreaming, CreateParticipantConnection
    expect_send(world, "hello")           # SendMessage on contact-1's connection
"""

from __future__ import annotations

from typing import Any

from botocore.stub import ANY

from tests.messaging.fixtures import FLOW_ID, INSTANCE_ID, TOPIC_ARN, connection_response, start_chat_response


def start_chat_request(client_token: Any = ANY) -> dict:
    """StartChatContact as ConnectChat sends it for a Messenger customer (the `local` stage's instance and flow)."""
    return {
        "InstanceId": INSTANCE_ID,
        "ContactFlowId": FLOW_ID,
        "ParticipantDetails": {"DisplayName": "Messenger customer"},
        "Attributes": {"Channel": "messenger", "Source": "connect-guard"},
        "ChatDurationInMinutes": 1500,
        "SupportedMessagingContentTypes": ["text/plain", "text/markdown"],
        "ClientToken": client_token,
    }


def streaming_request(contact_id: str, client_token: Any = ANY) -> dict:
    return {
        "InstanceId": INSTANCE_ID,
        "ContactId": contact_id,
        "ChatStreamingConfiguration": {"StreamingEndpointArn": TOPIC_ARN},
        "ClientToken": client_token,
    }


def connection_request(participant_token: str) -> dict:
    return {"ParticipantToken": participant_token, "Type": ["CONNECTION_CREDENTIALS"], "ConnectParticipant": True}


def text_request(connection_token: str, content: str, client_token: Any = ANY) -> dict:
    return {
        "ConnectionToken": connection_token,
        "ContentType": "text/plain",
        "Content": content,
        "ClientToken": client_token,
    }


def expect_new_chat(
    stubs: Any,
    contact_id: str = "contact-1",
    participant_token: str | None = None,
    connection_token: str | None = None,
    expires_in: float = 86400,
) -> None:
    """A chat started for `contact_id`; its tokens default to `ptoken-<contact_id>` and `ctoken-<contact_id>`."""
    participant_token = participant_token or f"ptoken-{contact_id}"
    connection_token = connection_token or f"ctoken-{contact_id}"
    stubs.connect.add_response(
        "start_chat_contact",
        start_chat_response(contact_id, participant_token),
        start_chat_request(),
    )
    stubs.connect.add_response("start_contact_streaming", {"StreamingId": "s"}, streaming_request(contact_id))
    expect_connection(stubs, participant_token, connection_token, expires_in)


def expect_connection(stubs: Any, participant_token: str, connection_token: str, expires_in: float = 86400) -> None:
    stubs.participant.add_response(
        "create_participant_connection",
        connection_response(connection_token, expires_in),
        connection_request(participant_token),
    )


def expect_send(stubs: Any, content: str, connection_token: str = "ctoken-contact-1") -> None:
    """One customer text sent on `connection_token` (by default contact-1's, as `expect_new_chat` makes it);
    its request is always checked: the content is the point."""
    stubs.participant.add_response("send_message", {"Id": "msg"}, text_request(connection_token, content))
