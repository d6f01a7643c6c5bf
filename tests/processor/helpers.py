"""Events as Amazon Connect sends them to a MESSAGE_PROCESSOR Lambda, and a processor over them (the sessions table
in moto: tests/sessions_table.py)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

from chalicelib.processor.context_store import ContextStore
from chalicelib.processor.processor import MessageProcessor
from chalicelib.redaction.redactor import build_redactor
from chalicelib.settings import RedactionSettings, _Reader

INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
CONTACT = "c0ffee00-0000-4000-8000-000000000001"
CARD = "4111 1111 1111 1111"
_ids = itertools.count(1)
# The keys of `chatContent` as Connect documents them (docs/reference/message-processor.md#contract). The product
# reads only some of them (chalicelib/processor/event.py) and keeps no list: this one is the tests' only copy.
CHAT_CONTENT_FIELDS = (
    "absoluteTime",
    "content",
    "contentType",
    "id",
    "participantId",
    "displayName",
    "participantRole",
    "initialContactId",
    "contactId",
)


def event(
    content: Any = "hello",
    content_type: Any = "text/plain",
    role: str = "CUSTOMER",
    contact: str = CONTACT,
    message_id: str | None = None,
    initial: str | None = None,
) -> dict[str, Any]:
    """The documented input (docs/reference/message-processor.md#contract)."""
    return {
        "version": "1.0",
        "instanceId": INSTANCE_ID,
        "associatedResourceArn": f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE_ID}",
        "chatContent": {
            "absoluteTime": "2026-12-06T03:00:00.000Z",
            "content": content,
            "contentType": content_type,
            "id": message_id or f"9e1a0000-0000-4000-8000-{next(_ids):012d}",
            "participantId": "5f3c0000-0000-4000-8000-000000000002",
            "displayName": "Customer" if role == "CUSTOMER" else "Agent",
            "participantRole": role,
            "initialContactId": initial or contact,
            "contactId": contact,
        },
    }


def content_of(answer: dict[str, Any]) -> str:
    return answer["result"]["processedChatContent"]["content"]


def redaction_settings(**env: str) -> RedactionSettings:
    return RedactionSettings.parse(_Reader(env))


def processor(
    store: ContextStore | None = None,
    reject: frozenset[str] = frozenset(),
    on_error: str = "reject",
    clock=None,
    max_attempts: int = 3,
    **env: str,
) -> MessageProcessor:
    settings = redaction_settings(**env)
    inbound = build_redactor(replace(settings, entity_types=settings.entity_types | reject), "inbound")
    outbound = build_redactor(
        replace(settings, outbound_entity_types=settings.outbound_entity_types | reject), "outbound"
    )
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    return MessageProcessor(
        inbound,
        outbound,
        mask_template=settings.mask_template,
        reject_entity_types=reject,
        store=store,
        on_error=on_error,
        max_attempts=max_attempts,
        **extra,
    )
