"""Amazon Connect chat streaming messages as SNS delivers them (docs/reference/connect-chat.md), for outbound tests.

`stream_item(...)` gives (Message JSON string, MessageAttributes) for one transcript item, shaped like
the real ones; `sns_event(*items)` wraps several into one Lambda event through Chalice's own generator.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.test import TestEventsClient

INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
ACCOUNT_ID = "123456789012"
_ids = itertools.count(1)

TYPING = "application/vnd.amazonaws.connect.event.typing"
JOINED = "application/vnd.amazonaws.connect.event.participant.joined"
LEFT = "application/vnd.amazonaws.connect.event.participant.left"
CHAT_ENDED = "application/vnd.amazonaws.connect.event.chat.ended"
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
INTERACTIVE_RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"


def iso(epoch: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def stream_item(
    contact_id: str,
    *,
    role: str = "AGENT",
    content_type: str = "text/plain",
    content: str | None = "Hello, how can I help?",
    item_type: str | None = None,
    visibility: str = "ALL",
    attachments: list[dict] | None = None,
    item_id: str | None = None,
    at: float | None = None,
    current_contact_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """One transcript item: (Message, MessageAttributes)."""
    if item_type is None:
        item_type = "ATTACHMENT" if attachments else ("EVENT" if ".event." in content_type else "MESSAGE")
    body: dict[str, Any] = {
        "AbsoluteTime": iso(at),
        "Id": item_id or f"item-{next(_ids):06d}-4f1e-9b0c",
        "Type": item_type,
        "ContentType": content_type,
        "ParticipantId": f"participant-{role.lower()}",
        "DisplayName": {"AGENT": "Jane", "CUSTOMER": "Messenger customer"}.get(role, role.title()),
        "ParticipantRole": role,
        "InitialContactId": contact_id,
        "ContactId": current_contact_id or contact_id,
    }
    if content is not None and not attachments:
        body["Content"] = content
    if attachments:
        body["Attachments"] = attachments
    attributes = {
        "InitialContactId": contact_id,
        "ContactId": current_contact_id or contact_id,
        "ParticipantRole": role,
        "InstanceId": INSTANCE_ID,
        "AccountId": ACCOUNT_ID,
        "Type": "EVENT" if item_type == "EVENT" else "MESSAGE",
        "ContentType": content_type,
        "MessageVisibility": visibility,
    }
    return json.dumps(body), {k: {"Type": "String", "Value": v} for k, v in attributes.items()}


def attachment(
    attachment_id: str = "att-0001",
    content_type: str = "image/png",
    status: str = "APPROVED",
    name: str = "invoice-for-jane.png",
) -> dict[str, str]:
    return {"AttachmentId": attachment_id, "AttachmentName": name, "ContentType": content_type, "Status": status}


@cache
def _events_client() -> TestEventsClient:
    """Chalice's SNS event generator (the app it is given is never used, so an empty one)."""
    from chalice import Chalice
    from chalice.test import TestEventsClient

    return TestEventsClient(Chalice(app_name="stream-fixtures", configure_logs=False))


def sns_event(*items: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """One Lambda event holding every item as a record, built with Chalice's SNS event generator."""
    records = []
    for index, (message, attributes) in enumerate(items):
        record = _events_client().generate_sns_event(message, message_attributes=attributes)["Records"][0]
        record["Sns"]["MessageId"] = f"sns-{index:04d}-{next(_ids):06d}"
        records.append(record)
    return {"Records": records}


def item_id_of(item: tuple[str, dict[str, Any]]) -> str:
    return json.loads(item[0])["Id"]
