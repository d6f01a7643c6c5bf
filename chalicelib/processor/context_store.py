"""Split-number context per conversation, in SESSIONS_TABLE (docs/reference/message-processor.md).

One item per initial contact, `pk = "processor#<initialContactId>"`:

    v           version, bumped by every write; a save is conditional on the version it read
    ctx         the redaction context now (RedactionContext.to_item(): flags, counts, times; never PII)
    recent      the last RECENT messages that changed it: [{"id": message id, "ctx": the context it was judged
                with}]; a retry of one of them is judged with that context again, so its answer repeats
    expires_at  TTL, always set

Reads are consistent; a write happens only when the context changed, conditional on the version read, so
two messages of one contact processed at once cannot lose each other's context: the loser reads again.
Expired items (TTL deletion lags) read as absent. Failures other than a failed condition raise
`StoreUnavailable` with the AWS error code only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.redaction.redactor import RedactionContext

KEY_PREFIX = "processor#"
DEFAULT_TTL_SECONDS = 24 * 3600
RECENT = 4


class StoreUnavailable(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Stored:
    context: RedactionContext
    version: int | None  # None: no live item
    recent: list[Any] = field(default_factory=list)  # as stored, to be carried over by the next save
    replay: bool = False  # this message was saved before: `context` is what it was judged with then


class ContextStore:
    def __init__(self, client: Any, table: str, ttl_seconds: int = DEFAULT_TTL_SECONDS):
        self._client = client
        self._table = table
        self._ttl = ttl_seconds
        self.round_trips = 0  # counted for the benchmark's budget

    def load(self, conversation: str, message_id: str, now: float) -> Stored:
        response = self._call("get_item", Key=_key(conversation), ConsistentRead=True)
        item = response.get("Item")
        if not item or _number(item.get("expires_at")) <= now:
            return Stored(RedactionContext(), None)
        version = int(_number(item.get("v")))
        recent = _recent(item.get("recent"))
        if message_id:
            for entry in recent:
                if entry.get("id", {}).get("S") == message_id:
                    return Stored(RedactionContext.from_item(_map(entry.get("ctx"))), version, recent, replay=True)
        return Stored(RedactionContext.from_item(_map(item.get("ctx"))), version, recent)

    def save(self, conversation: str, message_id: str, seen: Stored, after: RedactionContext, now: float) -> bool:
        """False when another message of the conversation wrote first (read again and judge again)."""
        values: dict[str, Any] = {
            ":next": {"N": str((seen.version or 0) + 1)},
            ":ctx": _encode_map(after.to_item()),
            ":recent": {
                "L": [
                    {"M": {"id": {"S": message_id or "-"}, "ctx": _encode_map(seen.context.to_item())}},
                    *({"M": entry} for entry in seen.recent[: RECENT - 1]),
                ]
            },
            ":exp": {"N": str(int(now) + self._ttl)},
        }
        if seen.version is None:
            condition = "attribute_not_exists(v) OR expires_at <= :now"
            values[":now"] = {"N": str(int(now))}
        else:
            condition = "v = :v"
            values[":v"] = {"N": str(seen.version)}
        return self._conditional(
            Key=_key(conversation),
            UpdateExpression="SET v = :next, ctx = :ctx, recent = :recent, expires_at = :exp",
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )

    def arm(self, conversation: str, after: RedactionContext, now: float) -> None:
        """Card context turned on by a message with no digits ("my card number is"): written without a read,
        since no-digit messages never read the context (their masks do not depend on it)."""
        self._call(
            "update_item",
            Key=_key(conversation),
            UpdateExpression="SET ctx = :ctx, expires_at = :exp ADD v :one",
            ExpressionAttributeValues={
                ":ctx": _encode_map(after.to_item()),
                ":one": {"N": "1"},
                ":exp": {"N": str(int(now) + self._ttl)},
            },
        )

    def _conditional(self, **request: Any) -> bool:
        try:
            self._call("update_item", **request)
        except StoreUnavailable as exc:
            if exc.code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        from chalicelib import aws

        self.round_trips += 1
        try:
            result: dict[str, Any] = getattr(self._client, operation)(TableName=self._table, **request)
        except Exception as exc:  # botocore's errors, a closed connection, a bad endpoint: all the same here
            raise StoreUnavailable(aws.error_code(exc)) from None
        return result


def _key(conversation: str) -> dict[str, Any]:
    return {"pk": {"S": KEY_PREFIX + conversation}}


def _encode_map(item: Mapping[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, bool):
            encoded[name] = {"BOOL": value}
        elif isinstance(value, (int, float)):
            encoded[name] = {"N": str(int(value))}
    return {"M": encoded}


def _recent(attribute: Any) -> list[Any]:
    if not isinstance(attribute, dict) or not isinstance(attribute.get("L"), list):
        return []
    return [
        entry["M"] for entry in attribute["L"][:RECENT] if isinstance(entry, dict) and isinstance(entry.get("M"), dict)
    ]


def _map(attribute: Any) -> dict[str, Any]:
    if not isinstance(attribute, dict) or not isinstance(attribute.get("M"), dict):
        return {}
    decoded: dict[str, Any] = {}
    for name, value in attribute["M"].items():
        if isinstance(value, dict) and "N" in value:
            decoded[name] = _number(value)
        elif isinstance(value, dict) and "BOOL" in value:
            decoded[name] = value["BOOL"] is True
    return decoded


def _number(attribute: Any) -> float:
    if isinstance(attribute, dict):
        attribute = attribute.get("N")
    try:
        return float(attribute)
    except (TypeError, ValueError):
        return 0.0
