"""Amazon Connect chat gateway: start a chat, stream it, connect the customer, send messages.

Two services (docs/reference/connect-chat.md): `connect` (IAM) starts contacts and streaming; `connectparticipant`
(authorised only by the participant/connection bearer token) carries the customer's side.

Errors come out as a small domain set, each with the AWS error code only (never its message):
- `ChatGone`: the chat ended or the token expired/is invalid (participant `AccessDeniedException`).
  Recoverable: drop the session, start a new chat, resend. Never retried as is (it loops for hours).
- `TransientError`: throttling, 5xx, timeouts, Connect's concurrent-chat limit.
- `ConfigurationError`: Connect-side refusals that hold for every message (unknown flow or instance,
  no IAM permission, a chat duration the account may not set).
- `PermanentError`: this one request cannot succeed (e.g. content Connect refuses).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.messaging.errors import ConfigurationError, MessagingError, PermanentError, TransientError
from chalicelib.messaging.text_units import utf16_prefix, utf16_units

TEXT_LIMIT = 1024  # text/plain and text/markdown per SendMessage (SDK docs); counted in UTF-16 units to be safe
CONTENT_TYPES = ["text/plain", "text/markdown"]


class ChatGone(MessagingError):
    """The chat has ended or its token is no longer accepted: start a new chat."""


@dataclass(frozen=True)
class StartedChat:
    contact_id: str
    participant_id: str
    participant_token: str = field(repr=False)


@dataclass(frozen=True)
class Connection:
    connection_token: str = field(repr=False)
    expires_at: float  # epoch seconds


def client_token(*parts: str) -> str:
    """A deterministic idempotency token (<= 500 chars for Connect) from the message id and a purpose,
    so Meta's redeliveries and our own retries are recognised by Connect as the same request."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def split_for_connect(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split text into pieces of at most `limit` UTF-16 code units, at whitespace where possible."""
    pieces: list[str] = []
    rest = text
    while utf16_units(rest) > limit:
        cut = len(utf16_prefix(rest, limit))
        space = rest.rfind(" ", 0, cut)
        newline = rest.rfind("\n", 0, cut)
        boundary = max(space, newline)
        if boundary > cut // 2:
            cut = boundary + 1
        pieces.append(rest[:cut].rstrip(" \n") or rest[:cut])
        rest = rest[cut:]
    if rest.strip(" \n") or not pieces:
        pieces.append(rest)
    return pieces


class ConnectChat:
    """The Connect calls one customer conversation needs. Clients are handed in (tests stub them)."""

    def __init__(
        self,
        connect: Any,
        participant: Any,
        instance_id: str,
        contact_flow_id: str,
        streaming_topic_arn: str,
        chat_duration_minutes: int,
    ):
        self._connect = connect
        self._participant = participant
        self._instance_id = instance_id
        self._flow_id = contact_flow_id
        self._topic_arn = streaming_topic_arn
        self._duration = chat_duration_minutes

    def start_chat(self, channel: str, display_name: str, token: str) -> StartedChat:
        """StartChatContact for a new customer conversation. The display name is what agents see: a
        label such as "Messenger customer", never the customer's id."""
        response = self._call(
            self._connect,
            "start_chat_contact",
            InstanceId=self._instance_id,
            ContactFlowId=self._flow_id,
            ParticipantDetails={"DisplayName": display_name},
            Attributes={"Channel": channel, "Source": "connect-guard"},
            ChatDurationInMinutes=self._duration,
            SupportedMessagingContentTypes=CONTENT_TYPES,
            ClientToken=token,
        )
        return StartedChat(response["ContactId"], response["ParticipantId"], response["ParticipantToken"])

    def start_streaming(self, contact_id: str) -> None:
        """Agent and system messages of this contact go to our SNS topic (the outbound handler)."""
        self._call(
            self._connect,
            "start_contact_streaming",
            InstanceId=self._instance_id,
            ContactId=contact_id,
            ChatStreamingConfiguration={"StreamingEndpointArn": self._topic_arn},
            ClientToken=client_token("stream", contact_id),
        )

    def create_connection(self, participant_token: str) -> Connection:
        """A ConnectionToken for the customer participant (also how an expired one is renewed)."""
        response = self._call(
            self._participant,
            "create_participant_connection",
            ParticipantToken=participant_token,
            Type=["CONNECTION_CREDENTIALS"],
            ConnectParticipant=True,
        )
        credentials = response.get("ConnectionCredentials") or {}
        token = credentials.get("ConnectionToken")
        if not token:
            raise TransientError("connect_no_connection_token")
        return Connection(token, _epoch(credentials.get("Expiry")))

    def send_text(self, connection_token: str, text: str, token: str, content_type: str = "text/plain") -> list[str]:
        """SendMessage, split into pieces Connect accepts; each piece has its own idempotency token."""
        ids = []
        for index, piece in enumerate(split_for_connect(text)):
            response = self._call(
                self._participant,
                "send_message",
                ConnectionToken=connection_token,
                ContentType=content_type,
                Content=piece,
                ClientToken=client_token(token, str(index)),
            )
            ids.append(response.get("Id", ""))
        return ids

    def disconnect(self, connection_token: str, token: str) -> None:
        """DisconnectParticipant: the customer leaves a chat we stop using (it must not stay open)."""
        self._call(self._participant, "disconnect_participant", ConnectionToken=connection_token, ClientToken=token)

    # -- errors

    def _call(self, client: Any, operation: str, **request: Any) -> dict[str, Any]:
        return call(client, operation, participant=client is self._participant, **request)


def call(client: Any, operation: str, *, participant: bool, **request: Any) -> dict[str, Any]:
    """One Connect (or, with `participant`, Connect Participant) call; its failure as a domain error."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client, operation)(**request)
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc, participant=participant) from None


def classify(exc: BaseException, participant: bool) -> MessagingError:
    """The domain error for a failed Connect or Connect Participant call."""
    from chalicelib import aws

    code = aws.error_code(exc)
    if participant and code in _GONE:
        return ChatGone("chat_gone", code)
    if code == "LimitExceededException":
        # Too many concurrent chats on the instance: capacity frees up as chats end.
        return TransientError("connect_limit_exceeded", code)
    if aws.is_transient(exc):
        return TransientError("connect_unavailable", code)
    if not participant and code in _MISCONFIGURED:
        return ConfigurationError("connect_misconfigured", code)
    return PermanentError("connect_rejected", code)


# Participant calls: a chat that ended, or an expired or invalid ConnectionToken (docs/reference/connect-chat.md).
_GONE = frozenset({"AccessDeniedException", "ResourceNotFoundException"})
# Connect calls that fail the same way for every customer until someone fixes the deployment.
_MISCONFIGURED = frozenset(
    {
        "AccessDeniedException",
        "ResourceNotFoundException",
        "InvalidParameterException",
        "InvalidRequestException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
    }
)


def _epoch(expiry: Any) -> float:
    """Connect's ISO-8601 expiry as epoch seconds (a missing or odd value counts as already expired,
    which only makes us renew the connection early)."""
    if isinstance(expiry, datetime):
        return expiry.timestamp()
    if isinstance(expiry, str) and expiry:
        try:
            return datetime.fromisoformat(expiry.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return 0.0
