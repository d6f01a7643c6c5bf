"""The sessions table in moto, as infra/ creates it, for the messaging and processor tests (both use the one
table the local stage names). Plain functions, called inside `mock_aws()`:

    with mock_aws(), atomic_moto_dynamodb():
        create_sessions_table()
        ...
        assert table_items() == [...]
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any

SESSIONS_TABLE = "connect-guard-sessions"  # the local stage's SESSIONS_TABLE


@contextlib.contextmanager
def atomic_moto_dynamodb():
    """Make moto's DynamoDB writes atomic, as DynamoDB's are.

    moto checks a ConditionExpression and then writes without a lock, so two threads can both pass
    the same condition: a race that real DynamoDB never has. Concurrency tests test OUR conditions,
    so they serialise moto's writes with one lock; and its reads, since moto updates an item attribute by
    attribute (an unlocked read could see a new version number beside the old value it guards).
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals = {
        name: getattr(DynamoDBBackend, name)
        for name in ("get_item", "put_item", "update_item", "delete_item", "transact_write_items")
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


def create_sessions_table(name: str = SESSIONS_TABLE) -> None:
    """The table as infra/ creates it: key `pk` (String), TTL on `expires_at`."""
    import boto3

    client = boto3.client("dynamodb")
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})


def table_items(name: str = SESSIONS_TABLE) -> list[dict[str, Any]]:
    """Every item in the table (for asserting what was stored)."""
    import boto3

    return boto3.client("dynamodb").scan(TableName=name, ConsistentRead=True)["Items"]
