"""The chats the Connect emulator holds: contacts, participants, tokens, transcript, idempotency.

It enforces what the app must get right against the real service: instance and flow ids, the order
StartChatContact -> StartContactStreaming -> CreateParticipantConnection, ClientTokens (a retried call
returns the first answer and adds nothing), expiring connection tokens, and AccessDenied for every
participant call once a chat has ended. Every transcript item goes to `publish` (the stream) as it is
added. One lock guards the state; nothing slow runs under it.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.connect.errors import ConnectError, access_denied, chat_ended, validation
from sandbox.connect.processing import DELIVER, DO_NOT_DELIVER, MessageProcessing, ProcessorSettings

EVENT = "application/vnd.amazonaws.connect.event."
TYPING = EVENT + "typing"
JOINED = EVENT + "participant.joined"
LEFT = EVENT + "participant.left"
CHAT_ENDED = EVENT + "chat.ended"
MESSAGE_CONTENT_TYPES = {
    "text/plain",
    "text/markdown",
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive.response",
}
EVENT_CONTENT_TYPES = {TYPING, EVENT + "message.delivered", EVENT + "message.read", EVENT + "connection.acknowledged"}
TEXT_LIMIT = 1024  # SDK docs: text/plain and text/markdown 1-1024 characters (docs/reference/connect-chat.md)
CONTENT_LIMIT = 16384
CONNECT_WINDOW_SECONDS = 300  # CreateParticipantConnection must follow StartChatContact within 5 minutes
MAX_TOPICS = 2
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

Publish = Callable[["Chat", dict], None]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Participant:
    participant_id: str
    role: str  # CUSTOMER | AGENT
    display_name: str
    participant_token: str
    contact_id: str
    connected: bool = False


@dataclass
class Chat:
    contact_id: str
    instance_id: str
    attributes: dict[str, str]
    started_at: float
    ends_at: float
    customer: Participant
    agent: Participant | None = None
    topics: list[str] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    ended: bool = False
    end_reason: str = ""
    channel: str = "connect:Chat"  # segment attribute connect:Subtype; the bridge's chats and web chat alike
    processor: ProcessorSettings | None = None  # StartContactMediaProcessing / the flow's Set message processor
    processing: list[dict] = field(default_factory=list)  # one entry per message that went through the processor

    def participant(self, participant_id: str) -> Participant | None:
        for candidate in (self.customer, self.agent):
            if candidate is not None and candidate.participant_id == participant_id:
                return candidate
        return None


@dataclass
class Connection:
    participant: Participant
    expires_at: float


class ConnectModel:
    def __init__(
        self,
        instance_id: str,
        contact_flow_id: str,
        topic_exists: Callable[[str], bool],
        publish: Publish,
        connection_ttl_seconds: float = 86400.0,
        clock: Callable[[], float] = time.time,
        processing: MessageProcessing | None = None,
    ):
        self.instance_id = instance_id
        self.contact_flow_id = contact_flow_id
        self.connection_ttl_seconds = connection_ttl_seconds
        self._topic_exists = topic_exists
        self._publish = publish
        self._clock = clock
        self._lock = threading.RLock()
        self._chats: dict[str, Chat] = {}
        self._by_participant_token: dict[str, Participant] = {}
        self._connections: dict[str, Connection] = {}
        self._idempotent: dict[tuple[str, ...], dict] = {}
        self.calls: dict[str, int] = {}  # operation -> count, shown on the page and asserted by tests
        self.processing = processing

    # ------------------------------------------------------------------------------------- connect

    def start_chat_contact(self, request: dict) -> dict:
        with self._lock:
            self.count("StartChatContact")
            self._check_instance(request.get("InstanceId"))
            if request.get("ContactFlowId") != self.contact_flow_id:
                raise ConnectError("ResourceNotFoundException", "Contact flow not found")
            token = request.get("ClientToken")
            if token is not None:
                _check_client_token(token, "InvalidParameterException")
                remembered = self._idempotent.get(("StartChatContact", token))
                if remembered is not None:
                    return remembered
            name = (request.get("ParticipantDetails") or {}).get("DisplayName")
            if not isinstance(name, str) or not 1 <= len(name) <= 256:
                raise ConnectError(
                    "InvalidParameterException", "ParticipantDetails.DisplayName must be 1-256 characters"
                )
            attributes = _check_attributes(request.get("Attributes") or {})
            minutes = request.get("ChatDurationInMinutes", 1500)
            if not isinstance(minutes, int) or not 60 <= minutes <= 10080:
                raise ConnectError("InvalidParameterException", "ChatDurationInMinutes must be 60-10080")
            supported = request.get("SupportedMessagingContentTypes")
            if supported is not None and "text/plain" not in supported:
                raise ConnectError(
                    "InvalidParameterException", "SupportedMessagingContentTypes must include text/plain"
                )

            now = self._clock()
            contact_id = str(uuid.uuid4())
            customer = Participant(str(uuid.uuid4()), "CUSTOMER", name, _token(), contact_id)
            chat = Chat(contact_id, self.instance_id, attributes, now, now + minutes * 60, customer)
            self._chats[contact_id] = chat
            self._by_participant_token[customer.participant_token] = customer
            initial = request.get("InitialMessage")
            if initial:
                self._check_message(initial.get("ContentType"), initial.get("Content"))
                self._add(chat, customer, "MESSAGE", initial["ContentType"], initial["Content"])
            response = {
                "ContactId": contact_id,
                "ParticipantId": customer.participant_id,
                "ParticipantToken": customer.participant_token,
            }
            if token is not None:
                self._idempotent[("StartChatContact", token)] = response
            return response

    def start_contact_streaming(self, request: dict) -> dict:
        with self._lock:
            self.count("StartContactStreaming")
            self._check_instance(request.get("InstanceId"))
            token = _check_client_token(request.get("ClientToken"), "InvalidParameterException")
            chat = self._chats.get(request.get("ContactId") or "")
            if chat is None:
                raise ConnectError("ResourceNotFoundException", "Contact not found")
            remembered = self._idempotent.get(("StartContactStreaming", chat.contact_id, token))
            if remembered is not None:
                return remembered
            if chat.ended:
                raise ConnectError("InvalidRequestException", "Contact is not active")
            arn = ((request.get("ChatStreamingConfiguration") or {}).get("StreamingEndpointArn")) or ""
            if not 1 <= len(arn) <= 350 or not self._topic_exists(arn):
                raise ConnectError(
                    "InvalidParameterException", "StreamingEndpointArn is not an existing standard SNS topic"
                )
            if arn not in chat.topics:
                if len(chat.topics) >= MAX_TOPICS:
                    raise ConnectError("LimitExceededException", "A contact streams to at most 2 topics")
                chat.topics.append(arn)
            response = {"StreamingId": str(uuid.uuid5(uuid.NAMESPACE_URL, chat.contact_id + arn))}
            self._idempotent[("StartContactStreaming", chat.contact_id, token)] = response
            return response

    def start_contact_media_processing(self, request: dict) -> dict:
        """Turns the chat's message processor on (docs/reference/message-processor.md#activation)."""
        with self._lock:
            self.count("StartContactMediaProcessing")
            self._check_instance(request.get("InstanceId"))
            chat = self._chats.get(request.get("ContactId") or "")
            if chat is None:
                raise ConnectError("ResourceNotFoundException", "Contact not found")
            if chat.ended:
                raise ConnectError("InvalidRequestException", "Contact is not active")
            arn, mode = request.get("ProcessorArn") or "", request.get("FailureMode") or ""
            if ":function:" not in arn or mode not in (DELIVER, DO_NOT_DELIVER):
                raise ConnectError(
                    "InvalidParameterException",
                    "ProcessorArn must be a Lambda ARN and FailureMode "
                    "DELIVER_UNPROCESSED_MESSAGE or DO_NOT_DELIVER_UNPROCESSED_MESSAGE",
                )
            chat.processor = ProcessorSettings(arn.rsplit(":function:", 1)[1].split(":")[0], mode)
            return {}

    # ------------------------------------------------------------------------------------- participant

    def create_participant_connection(self, participant_token: str | None, request: dict) -> dict:
        with self._lock:
            self.count("CreateParticipantConnection")
            participant = self._by_participant_token.get(participant_token or "")
            if participant is None:
                raise access_denied()
            chat = self._chats[participant.contact_id]
            if chat.ended:
                raise chat_ended()
            types = request.get("Type") or []
            if not set(types) <= {"WEBSOCKET", "CONNECTION_CREDENTIALS", "WEBRTC_CONNECTION"}:
                raise validation("Type has an unknown value")
            if request.get("ConnectParticipant"):
                if participant.role != "CUSTOMER":
                    raise validation("ConnectParticipant applies to the customer participant only")
                if not chat.topics:
                    raise validation("ConnectParticipant needs StartContactStreaming first")
                if not participant.connected:
                    participant.connected = True
                    self._add(chat, participant, "EVENT", JOINED)
                    self._agent_joins(chat)
            now = self._clock()
            response: dict[str, Any] = {}
            if "CONNECTION_CREDENTIALS" in types:
                connection_token = _token()
                expires_at = now + self.connection_ttl_seconds
                self._connections[connection_token] = Connection(participant, expires_at)
                response["ConnectionCredentials"] = {"ConnectionToken": connection_token, "Expiry": iso(expires_at)}
            if "WEBSOCKET" in types:  # not served: the app uses connection credentials only
                response["Websocket"] = {
                    "Url": "wss://127.0.0.1/unsupported-in-sandbox",
                    "ConnectionExpiry": iso(now + 300),
                }
            return response

    def send_message(self, connection_token: str | None, request: dict) -> dict:
        with self._lock:
            self.count("SendMessage")
            participant, chat = self._connected(connection_token)
            token = request.get("ClientToken")
            if token is not None:
                _check_client_token(token)
                remembered = self._idempotent.get(("SendMessage", participant.participant_id, token))
                if remembered is not None:
                    return remembered
            content_type, content = self._check_message(request.get("ContentType"), request.get("Content"))
        item = self._deliver(chat, participant, content_type, content)
        with self._lock:
            response = {"Id": item["Id"], "AbsoluteTime": item["AbsoluteTime"]}
            if item.get("MessageMetadata"):
                response["MessageMetadata"] = item["MessageMetadata"]
            if token is not None:
                self._idempotent[("SendMessage", participant.participant_id, token)] = response
            return response

    def send_event(self, connection_token: str | None, request: dict) -> dict:
        with self._lock:
            self.count("SendEvent")
            participant, chat = self._connected(connection_token)
            token = request.get("ClientToken")
            if token is not None:
                _check_client_token(token)
                remembered = self._idempotent.get(("SendEvent", participant.participant_id, token))
                if remembered is not None:
                    return remembered
            content_type = request.get("ContentType")
            if content_type not in EVENT_CONTENT_TYPES:
                raise validation("ContentType is not a supported event type")
            item = self._add(chat, participant, "EVENT", content_type, request.get("Content"))
            response = {"Id": item["Id"], "AbsoluteTime": item["AbsoluteTime"]}
            if token is not None:
                self._idempotent[("SendEvent", participant.participant_id, token)] = response
            return response

    def disconnect_participant(self, connection_token: str | None, request: dict) -> dict:
        with self._lock:
            self.count("DisconnectParticipant")
            participant, chat = self._connected(connection_token)
            self._end(chat, participant, "CUSTOMER_DISCONNECT")
            return {}

    def connected(self, connection_token: str | None) -> tuple[Participant, Chat]:
        """The participant a ConnectionToken belongs to, for the attachment operations."""
        with self._lock:
            return self._connected(connection_token)

    # ------------------------------------------------------------------------------------- the agent (sandbox page)

    def agent_message(self, contact_id: str, text: str, content_type: str = "text/plain") -> dict:
        with self._lock:
            chat, agent = self._active_with_agent(contact_id)
            self._check_message(content_type, text)
        return self._deliver(chat, agent, content_type, text)

    # ------------------------------------------------------------------------------------- web chat (sandbox page)

    def start_web_chat(self, display_name: str, processor: ProcessorSettings | None) -> Chat:
        """A native web-chat contact: the widget starts it and connects the customer at once; the entry flow
        (chat-redaction) has turned the message processor on."""
        with self._lock:
            self.count("StartChatContact")
            now = self._clock()
            contact_id = str(uuid.uuid4())
            customer = Participant(str(uuid.uuid4()), "CUSTOMER", display_name, _token(), contact_id, connected=True)
            chat = Chat(contact_id, self.instance_id, {}, now, now + 1500 * 60, customer, processor=processor)
            self._chats[contact_id] = chat
            self._by_participant_token[customer.participant_token] = customer
            self._add(chat, customer, "EVENT", JOINED)
            self._agent_joins(chat)
            return chat

    def web_customer_message(self, contact_id: str, text: str, content_type: str = "text/plain") -> dict:
        with self._lock:
            chat = self._chats.get(contact_id)
            if chat is None or chat.ended:
                raise validation("no active web chat with this contact id")
            self._check_message(content_type, text)
        return self._deliver(chat, chat.customer, content_type, text)

    def agent_typing(self, contact_id: str) -> dict:
        with self._lock:
            chat, agent = self._active_with_agent(contact_id)
            return self._add(chat, agent, "EVENT", TYPING)

    def agent_end_chat(self, contact_id: str) -> None:
        with self._lock:
            chat, agent = self._active_with_agent(contact_id)
            self._end(chat, agent, "AGENT_DISCONNECT")

    def expire_connection_tokens(self) -> int:
        """Age every connection token past its Expiry, as a day of waiting would (sandbox control)."""
        with self._lock:
            now = self._clock()
            for connection in self._connections.values():
                connection.expires_at = min(connection.expires_at, now - 1)
            return len(self._connections)

    def add_item(
        self, chat: Chat, participant: Participant, item_type: str, content_type: str, attachments: list[dict]
    ) -> dict:
        """An ATTACHMENT item, once the scanner decided (attachments.py)."""
        with self._lock:
            return self._add(chat, participant, item_type, content_type, None, attachments)

    # ------------------------------------------------------------------------------------- time

    def tick(self) -> None:
        """End chats whose customer never connected in time or whose duration is over."""
        with self._lock:
            now = self._clock()
            for chat in self._chats.values():
                if chat.ended:
                    continue
                if not chat.customer.connected and now - chat.started_at > CONNECT_WINDOW_SECONDS:
                    self._end(chat, None, "CUSTOMER_NEVER_CONNECTED")
                elif now >= chat.ends_at:
                    self._end(chat, None, "EXPIRED")

    # ------------------------------------------------------------------------------------- views

    def chats(self) -> list[Chat]:
        with self._lock:
            return sorted(self._chats.values(), key=lambda chat: chat.started_at)

    def chat(self, contact_id: str) -> Chat | None:
        with self._lock:
            return self._chats.get(contact_id)

    def latest_active(self) -> Chat | None:
        active = [chat for chat in self.chats() if not chat.ended and chat.agent is not None]
        return active[-1] if active else None

    # ------------------------------------------------------------------------------------- internals

    def _deliver(self, chat: Chat, participant: Participant, content_type: str, content: str) -> dict:
        """A message into the transcript, through the chat's processor first if it has one. The Lambda runs
        outside the lock, as Connect's own call would not hold the chat."""
        if chat.processor is None or self.processing is None:
            with self._lock:
                return self._add(chat, participant, "MESSAGE", content_type, content)
        event = self.processing.event(
            chat.contact_id, chat.contact_id, participant, content_type, content, iso(self._clock())
        )
        outcome = self.processing.process(chat.processor, event)
        with self._lock:
            entry = {"role": participant.role, "sent": content, "at": iso(self._clock()), **outcome.as_dict()}
            if outcome.delivered:
                item = self._add(chat, participant, "MESSAGE", outcome.content_type, outcome.content)
                entry["item_id"] = item["Id"]
                entry["delivered_text"] = outcome.content
            else:
                # Not delivered: no transcript item; the sender's API answer says so (MessageProcessingStatus).
                status = "REJECTED" if outcome.status == "REJECTED" else "FAILED"
                item = {
                    "Id": str(uuid.uuid4()),
                    "AbsoluteTime": entry["at"],
                    "MessageMetadata": {"MessageProcessingStatus": status},
                }
            chat.processing.append(entry)
            return item

    def count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1

    def _check_instance(self, instance_id: Any) -> None:
        if instance_id != self.instance_id:
            raise ConnectError("ResourceNotFoundException", "Instance not found")

    def _check_message(self, content_type: Any, content: Any) -> tuple[str, str]:
        """(content type, content), when they make a valid message."""
        if content_type not in MESSAGE_CONTENT_TYPES:
            raise validation("ContentType is not supported")
        if not isinstance(content, str) or not content:
            raise validation("Content must not be empty")
        limit = TEXT_LIMIT if content_type in ("text/plain", "text/markdown") else CONTENT_LIMIT
        if len(content) > limit:
            raise validation(f"Content is longer than {limit} characters")
        return content_type, content

    def _connected(self, connection_token: str | None) -> tuple[Participant, Chat]:
        connection = self._connections.get(connection_token or "")
        if connection is None or connection.expires_at <= self._clock():
            raise access_denied("Access denied: the connection token is invalid or expired")
        chat = self._chats[connection.participant.contact_id]
        if chat.ended:
            raise chat_ended()
        return connection.participant, chat

    def _active_with_agent(self, contact_id: str) -> tuple[Chat, Participant]:
        chat = self._chats.get(contact_id)
        if chat is None or chat.ended or chat.agent is None:
            raise validation("no active chat with an agent for this contact")
        return chat, chat.agent

    def _agent_joins(self, chat: Chat) -> None:
        # The sandbox's flow routes straight to one agent, who joins as soon as the customer is connected.
        chat.agent = Participant(str(uuid.uuid4()), "AGENT", "Agent", _token(), chat.contact_id, connected=True)
        self._add(chat, chat.agent, "EVENT", JOINED)

    def _end(self, chat: Chat, leaving: Participant | None, reason: str) -> None:
        if leaving is not None:
            self._add(chat, leaving, "EVENT", LEFT)
        chat.ended, chat.end_reason = True, reason
        self._add(chat, None, "EVENT", CHAT_ENDED)

    def _add(
        self,
        chat: Chat,
        participant: Participant | None,
        item_type: str,
        content_type: str,
        content: str | None = None,
        attachments: list[dict] | None = None,
    ) -> dict:
        item: dict[str, Any] = {
            "AbsoluteTime": iso(self._clock()),
            "Id": str(uuid.uuid4()),
            "Type": item_type,
            "ContentType": content_type,
            "ParticipantId": participant.participant_id if participant else "SYSTEM",
            "DisplayName": participant.display_name if participant else "SYSTEM_MESSAGE",
            "ParticipantRole": participant.role if participant else "SYSTEM",
            "InitialContactId": chat.contact_id,
            "ContactId": chat.contact_id,
        }
        if content is not None:
            item["Content"] = content
        if attachments is not None:
            item["Attachments"] = attachments
        chat.items.append(item)
        self._publish(chat, item)
        return item


def _token() -> str:
    return secrets.token_urlsafe(96)


def _check_client_token(token: Any, code: str = "ValidationException") -> str:
    """The token, when it is a valid ClientToken."""
    if not isinstance(token, str) or not 1 <= len(token) <= 500:
        raise ConnectError(code, "ClientToken must be 1-500 characters")
    return token


def _check_attributes(attributes: Any) -> dict[str, str]:
    if not isinstance(attributes, dict):
        raise ConnectError("InvalidParameterException", "Attributes must be a map")
    total = 0
    for key, value in attributes.items():
        if not isinstance(value, str) or not _ATTRIBUTE_KEY.match(key):
            raise ConnectError("InvalidParameterException", "Attributes keys are [A-Za-z0-9_-], values strings")
        total += len(key.encode()) + len(value.encode())
    if total > 32768:
        raise ConnectError("InvalidParameterException", "Attributes exceed 32,768 bytes")
    return dict(attributes)
