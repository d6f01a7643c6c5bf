"""A DynamoDB table as the session store uses it: plain-Python items in, domain errors out.

Conditional writes answer True/False instead of raising; throttling and 5xx become `TransientError`;
anything else (missing table, no permission) `ConfigurationError`. Items are encoded by hand for the
few flat types sessions hold (boto3's TypeSerializer insists on Decimal for every number).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.messaging.errors import TransientError, aws_failure


class Table:
    """The few DynamoDB calls the store makes, with plain-Python items and domain errors."""

    def __init__(self, client: Any, table: str):
        self._client = client
        self._table = table

    def get(self, pk: str, now: float) -> dict[str, Any] | None:
        response = self._call("GetItem", Key={"pk": {"S": pk}}, ConsistentRead=True)
        item = response.get("Item")
        if not item:
            return None
        decoded = _decode_item(item)
        if decoded.get("expires_at", now + 1) <= now:  # TTL deletion lags: expired means absent
            return None
        return decoded

    def put(self, item: Mapping[str, Any], condition: str | None, values: Mapping[str, Any] | None) -> bool:
        request = _expressions(condition=condition, values=values)
        return self._conditional("PutItem", Item=_encode_item(item), **request)

    def update(
        self,
        pk: str,
        expression: str,
        values: Mapping[str, Any],
        condition: str | None,
        names: Mapping[str, str] | None = None,
    ) -> bool:
        request = _expressions(update=expression, condition=condition, values=values, names=names)
        return self._conditional("UpdateItem", Key={"pk": {"S": pk}}, **request)

    def delete(self, pk: str, condition: str, values: Mapping[str, Any]) -> bool:
        request = _expressions(condition=condition, values=values)
        return self._conditional("DeleteItem", Key={"pk": {"S": pk}}, **request)

    def transact_put(self, *puts: tuple[Mapping[str, Any], str | None, Mapping[str, Any] | None]) -> bool:
        items = []
        for item, condition, values in puts:
            put = {"TableName": self._table, "Item": _encode_item(item)}
            put.update(_expressions(condition=condition, values=values))
            items.append({"Put": put})
        return self._conditional("TransactWriteItems", TransactItems=items, table=False)

    def _conditional(self, operation: str, table: bool = True, **request: Any) -> bool:
        try:
            self._call(operation, table=table, **request)
        except Conflict:
            return False
        return True

    def _call(self, operation: str, table: bool = True, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        from chalicelib import aws

        if table:
            request["TableName"] = self._table
        method: Callable[..., dict[str, Any]] = getattr(self._client, _SNAKE[operation])
        try:
            return method(**request)
        except (ClientError, BotoCoreError) as exc:
            code = aws.error_code(exc)
            if code == "ConditionalCheckFailedException":
                raise Conflict() from None
            if code == "TransactionCanceledException":
                if _only_condition_failures(exc):
                    raise Conflict() from None
                raise TransientError("sessions_unavailable", code) from None  # lost to a concurrent write
            raise aws_failure(exc, "sessions_unavailable", "sessions_unusable") from None


_SNAKE = {
    "GetItem": "get_item",
    "PutItem": "put_item",
    "UpdateItem": "update_item",
    "DeleteItem": "delete_item",
    "TransactWriteItems": "transact_write_items",
}


class Conflict(Exception):
    """A condition expression did not hold."""


def _only_condition_failures(exc: Any) -> bool:
    reasons = exc.response.get("CancellationReasons") or []
    codes = {reason.get("Code") for reason in reasons} - {"None", None}
    if not codes:
        # Some emulators omit the reasons; the message names them.
        message = str(exc.response.get("Error", {}).get("Message", ""))
        return "ConditionalCheckFailed" in message and "TransactionConflict" not in message
    return codes == {"ConditionalCheckFailed"}


def _expressions(
    update: str | None = None,
    condition: str | None = None,
    values: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Request fields for an update/condition expression. DynamoDB refuses unused names and values,
    so only those the expressions mention are sent."""
    request: dict[str, Any] = {}
    text = " ".join(part for part in (update, condition) if part)
    if update:
        request["UpdateExpression"] = update
    if condition:
        request["ConditionExpression"] = condition
    attribute_names = {"#state": "state", **(names or {})}
    used_names = {key: value for key, value in attribute_names.items() if _mentions(text, key)}
    if used_names:
        request["ExpressionAttributeNames"] = used_names
    used = {key: value for key, value in (values or {}).items() if _mentions(text, key)}
    if used:
        request["ExpressionAttributeValues"] = _encode_item(used)
    return request


def _mentions(text: str, placeholder: str) -> bool:
    return re.search(re.escape(placeholder) + r"(?![A-Za-z0-9_])", text) is not None


def _encode(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, Mapping):
        return {"M": {str(k): _encode(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [_encode(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in a session item")


def _decode(attr: Mapping[str, Any]) -> Any:
    ((kind, value),) = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        return int(value) if value.lstrip("-").isdigit() else float(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _decode(v) for k, v in value.items()}
    if kind == "L":
        return [_decode(v) for v in value]
    return None  # sets and binaries are never written by this module


def _encode_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _encode(value) for key, value in item.items()}


def _decode_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _decode(value) for key, value in item.items()}
