"""The AWS list calls the deploy tool pages through (NextToken), made through its `aws` (RealAws or DryRunAws), so
every page is printed as the CLI command it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def each_item(aws: Any, service: str, operation: str, key: str, **request: Any) -> Iterator[Any]:
    """The items under `key` of every page, in order. A page is asked for only when the items before it are used
    up: a search that stops at its match makes no further call."""
    while True:
        page = aws.call(service, operation, **request)
        yield from page.get(key, [])
        if not page.get("NextToken"):
            return
        request["NextToken"] = page["NextToken"]


def connect_lambda_functions(aws: Any, instance_id: str) -> list[str]:
    """The ARNs of the Lambda functions associated with the Connect instance (flows may invoke only those)."""
    return list(each_item(aws, "connect", "list_lambda_functions", "LambdaFunctions", InstanceId=instance_id))
