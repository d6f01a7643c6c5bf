"""The AWS list calls the deploy tool pages through (NextToken), made through its `aws` (RealAws or DryRunAws), so
every page is printed as the CLI command it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.aws import page_items


def each_item(aws: Any, service: str, operation: str, key: str, **request: Any) -> Iterator[Any]:
    """The items under `key` of every page, in order, asked for page by page (chalicelib.aws.page_items)."""
    return page_items(lambda **page_request: aws.call(service, operation, **page_request), key, **request)


def connect_lambda_functions(aws: Any, instance_id: str) -> list[str]:
    """The ARNs of the Lambda functions associated with the Connect instance (flows may invoke only those)."""
    return list(each_item(aws, "connect", "list_lambda_functions", "LambdaFunctions", InstanceId=instance_id))
