"""Events as Amazon Connect sends them to a MESSAGE_PROCESSOR Lambda, a processor over moto, table helpers."""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from dataclasses import replace
from typing import Any

from chalicelib.processor.context_store import ContextStore
from chalicelib.processor.processor import MessageProcessor
from chalicelib.redaction.redactor import build_redactor
from chalicelib.settings import RedactionSettings, _Reader

TABLE = "connect-guard-sessions"  # the local stage's SESSIONS_TABLE
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
CONTACT = "c0ffee00-0000-4000-8000-000000000001"
CARD = "4111 1111 1111 1111"
_ids = itertools.count(1)


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


def create_table(name: str = TABLE) -> None:
    """The sessions table as infra/ creates it: key `pk` (String), TTL on `expires_at`."""
    import boto3

    client = boto3.client("dynamodb")
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})


def items(name: str = TABLE) -> list[dict[str, Any]]:
    import boto3

    return boto3.client("dynamodb").scan(TableName=name)["Items"]


@contextlib.contextmanager
def atomic_moto_dynamodb():
    """moto checks a ConditionExpression and then writes without a lock, so two threads can both pass the
    same condition, which real DynamoDB never allows. Concurrency tests test OUR conditions: serialise
    moto's writes. (Same helper as tests/messaging/fixtures.py; kept here so this package stands alone.)"""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    # Reads too: moto updates an item attribute by attribute, so an unlocked read can see the new version
    # number beside the old context, which DynamoDB's atomic item reads never show.
    originals = {
        name: getattr(DynamoDBBackend, name) for name in ("get_item", "put_item", "update_item", "delete_item")
    }

    def locked(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with lock:
                return method(*args, **kwargs)

        return wrapper

    for name, method in originals.items():
        setattr(DynamoDBBackend, name, locked(method))
    try:
        yield
    finally:
        for name, method in originals.items():
            setattr(DynamoDBBackend, name, method)
