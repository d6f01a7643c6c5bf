"""A typed view of the MESSAGE_PROCESSOR event; reading it never raises.

Connect sends (docs/reference/message-processor.md#contract):

    {"version", "instanceId", "associatedResourceArn",
     "chatContent": {"absoluteTime", "content", "contentType", "id", "participantId", "displayName",
                     "participantRole", "initialContactId", "contactId"}}

Keys are lowerCamelCase. `read(event)` returns a `ChatMessage`, or a `Malformed` that names why (a reason
code) and keeps the content only if it was a string, so a fail-open policy can hand it back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Connect's chat limits are far below this (16 KB web chat, 4 KB WhatsApp, 1 KB SMS): beyond it is hostile.
MAX_CONTENT_BYTES = 1024 * 1024
CUSTOMER = "CUSTOMER"
_MAX_ID = 256  # ids are UUIDs; anything longer is not one and is not worth carrying around


@dataclass(frozen=True, slots=True)
class ChatMessage:
    message_id: str
    content: str
    content_type: str | None  # lower-cased, parameters dropped ("text/plain; charset=utf-8" -> "text/plain")
    role: str  # CUSTOMER, AGENT, SYSTEM, CUSTOM_BOT, SUPERVISOR, ... upper-cased; "" when absent
    participant_id: str
    contact_id: str
    initial_contact_id: str
    instance_id: str

    @property
    def from_customer(self) -> bool:
        return self.role == CUSTOMER

    @property
    def conversation_key(self) -> str:
        """Which conversation the message belongs to across transfers: the initial contact."""
        return self.initial_contact_id or self.contact_id


@dataclass(frozen=True, slots=True)
class Malformed:
    reason: str
    content: str | None = None
    content_type: str | None = None
    message_id: str = ""
    contact_id: str = ""


def read(event: Any) -> ChatMessage | Malformed:
    if not isinstance(event, dict):
        return Malformed("event_not_an_object")
    chat = event.get("chatContent")
    if not isinstance(chat, dict):
        return Malformed("chat_content_missing")
    content = chat.get("content")
    content_type = _content_type(chat.get("contentType"))
    message_id = _id(chat.get("id"))
    contact_id = _id(chat.get("contactId"))
    if not isinstance(content, str):
        return Malformed("content_not_a_string", None, content_type, message_id, contact_id)
    if _too_big(content):
        return Malformed("content_oversized", None, content_type, message_id, contact_id)
    role = chat.get("participantRole")
    return ChatMessage(
        message_id=message_id,
        content=content,
        content_type=content_type,
        role=role.strip().upper() if isinstance(role, str) else "",
        participant_id=_id(chat.get("participantId")),
        contact_id=contact_id,
        initial_contact_id=_id(chat.get("initialContactId")),
        instance_id=_id(event.get("instanceId")),
    )


def _too_big(content: str) -> bool:
    # A character is at most 4 UTF-8 bytes: encode only when the length alone cannot tell.
    if len(content) <= MAX_CONTENT_BYTES // 4:
        return False
    if len(content) > MAX_CONTENT_BYTES:
        return True
    return len(content.encode("utf-8", "surrogatepass")) > MAX_CONTENT_BYTES


def _id(value: Any) -> str:
    return value if isinstance(value, str) and 0 < len(value) <= _MAX_ID else ""


def _content_type(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    kind = value.split(";", 1)[0].strip().lower()
    return kind or None
