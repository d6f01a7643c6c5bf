"""Typed view of the Amazon Connect chat streaming messages that arrive on SNS (docs/reference/connect-chat.md).

Each SNS record carries MessageAttributes (role, visibility, ids) and a Message: the JSON of one chat
transcript item. `parse_event` turns a whole Lambda event into stream items, one per record, and never
raises: a record it cannot read becomes a `MalformedRecord` with a reason code, so one bad record
cannot take the others down with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Connect content types (docs/reference/connect-chat.md).
TEXT_PLAIN = "text/plain"
TEXT_MARKDOWN = "text/markdown"
JSON = "application/json"
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
INTERACTIVE_RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"
EVENT_PREFIX = "application/vnd.amazonaws.connect.event."
TYPING = EVENT_PREFIX + "typing"
PARTICIPANT_JOINED = EVENT_PREFIX + "participant.joined"
PARTICIPANT_LEFT = EVENT_PREFIX + "participant.left"
CHAT_ENDED = EVENT_PREFIX + "chat.ended"

CUSTOMER_VISIBLE = frozenset({"CUSTOMER", "ALL"})
FORWARDED_ROLES = frozenset({"AGENT", "SYSTEM", "CUSTOM_BOT"})

# An SNS message is at most 256 KiB; anything bigger is not from SNS.
MAX_MESSAGE_CHARS = 256 * 1024


@dataclass(frozen=True)
class AttachmentRef:
    attachment_id: str
    content_type: str
    status: str  # APPROVED, REJECTED, IN_PROGRESS, or "" when the instance does not scan
    # AttachmentName is deliberately not kept: a file name can carry PII and nothing here needs it.


@dataclass(frozen=True)
class StreamItem:
    """One transcript item from the stream, with the routing facts from its SNS attributes."""

    item_id: str
    initial_contact_id: str
    contact_id: str
    role: str
    item_type: str  # MESSAGE, EVENT, ATTACHMENT, TYPING, CHAT_ENDED, ...
    content_type: str
    content: str | None
    visibility: str  # AGENT, CUSTOMER, ALL, or "" when Connect did not say
    attachments: tuple[AttachmentRef, ...] = ()
    sns_message_id: str = ""
    absolute_time: float | None = None  # epoch seconds of the item in Connect, when readable

    @property
    def visible_to_customer(self) -> bool:
        return self.visibility in CUSTOMER_VISIBLE

    @property
    def is_chat_ended(self) -> bool:
        return self.content_type == CHAT_ENDED or self.item_type == "CHAT_ENDED"

    @property
    def is_customer_leaving(self) -> bool:
        return self.role == "CUSTOMER" and (
            self.content_type == PARTICIPANT_LEFT or self.item_type == "PARTICIPANT_LEFT"
        )

    @property
    def ends_conversation(self) -> bool:
        return self.is_chat_ended or self.is_customer_leaving

    @property
    def is_typing(self) -> bool:
        return self.content_type == TYPING or self.item_type == "TYPING"

    @property
    def is_attachment(self) -> bool:
        return self.item_type == "ATTACHMENT" or (bool(self.attachments) and not self.content)


@dataclass(frozen=True)
class MalformedRecord:
    """A record we could not read. `reason` is a code safe to log; nothing of the record is kept."""

    reason: str
    index: int
    sns_message_id: str = ""


class _Malformed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_event(event: Mapping[str, Any]) -> list[StreamItem | MalformedRecord]:
    """Every record of an SNS-triggered Lambda event, in order."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        return [MalformedRecord(reason="event_without_records", index=0)]
    return [parse_record(record, index) for index, record in enumerate(records)]


def parse_record(record: Any, index: int = 0) -> StreamItem | MalformedRecord:
    sns = record.get("Sns") if isinstance(record, Mapping) else None
    message_id = _string(sns.get("MessageId")) if isinstance(sns, Mapping) else ""
    try:
        return _parse_sns(sns, message_id)
    except _Malformed as problem:
        return MalformedRecord(reason=problem.reason, index=index, sns_message_id=message_id)


def _parse_sns(sns: Any, message_id: str) -> StreamItem:
    if not isinstance(sns, Mapping):
        raise _Malformed("record_without_sns")
    raw = sns.get("Message")
    if not isinstance(raw, str) or not raw:
        raise _Malformed("message_missing")
    if len(raw) > MAX_MESSAGE_CHARS:
        raise _Malformed("message_too_large")
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Malformed("message_not_json") from None
    if not isinstance(body, dict):
        raise _Malformed("message_not_object")
    attributes = _attributes(sns.get("MessageAttributes"))

    def fact(name: str) -> str:
        # The SNS attribute and the item agree in practice; the attribute wins (it is what filters match).
        return attributes.get(name) or _string(body.get(name))

    item_id = _string(body.get("Id"))
    initial_contact_id = fact("InitialContactId")
    content_type = fact("ContentType")
    if not item_id:
        raise _Malformed("item_id_missing")
    if not initial_contact_id:
        raise _Malformed("initial_contact_id_missing")
    if not content_type and not body.get("Attachments"):
        raise _Malformed("content_type_missing")
    content = body.get("Content")
    if content is not None and not isinstance(content, str):
        raise _Malformed("content_not_string")
    return StreamItem(
        item_id=item_id,
        initial_contact_id=initial_contact_id,
        contact_id=fact("ContactId") or initial_contact_id,
        role=fact("ParticipantRole").upper(),
        item_type=_string(body.get("Type")).upper() or attributes.get("Type", "").upper(),
        content_type=content_type,
        content=content,
        visibility=attributes.get("MessageVisibility", "").upper(),
        attachments=_attachments(body.get("Attachments")),
        sns_message_id=message_id,
        absolute_time=_epoch(body.get("AbsoluteTime")),
    )


def _attributes(raw: Any) -> dict[str, str]:
    """SNS MessageAttributes `{"Name": {"Type": "String", "Value": "..."}}` as plain strings."""
    if not isinstance(raw, Mapping):
        return {}
    values = {}
    for name, attribute in raw.items():
        if isinstance(attribute, Mapping):
            value = attribute.get("Value", attribute.get("StringValue"))
            if isinstance(value, str) and value:
                values[str(name)] = value
    return values


def _attachments(raw: Any) -> tuple[AttachmentRef, ...]:
    if not isinstance(raw, list):
        return ()
    refs = []
    for entry in raw:
        if isinstance(entry, Mapping) and _string(entry.get("AttachmentId")):
            refs.append(
                AttachmentRef(
                    attachment_id=_string(entry.get("AttachmentId")),
                    content_type=_string(entry.get("ContentType")).lower(),
                    status=_string(entry.get("Status")).upper(),
                )
            )
    return tuple(refs)


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
