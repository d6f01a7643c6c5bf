"""Lazily built, cached boto3 clients.

Clients are built on first use (boto3 costs ~200 ms to import, and each Lambda imports all of app.py)
and reused for the life of the container. They all come from one boto3 session per process: a session
per client re-parsed botocore's endpoint data and rescanned its service directories for every client
(benchmarks/bench_aws_clients.py measures both ways). Endpoints are never passed here: boto3 reads
`AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` itself, which is how the sandbox and tests point the
unchanged code at emulators.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# Tight timeouts: every caller sits inside a deadline (Meta's webhook, Connect's 8 s / 60 s limits).
# `standard` retry mode retries throttling and 5xx with jittered backoff.
_TIMEOUTS = {
    "connect_timeout": 2,
    "read_timeout": 5,
}
_RETRIES = {"mode": "standard", "total_max_attempts": 3}

_clients: dict[str, Any] = {}
_session: Any = None  # boto3.session.Session, built with the first client
_lock = threading.Lock()  # boto3 sessions are not thread safe for creating clients: every creation holds it


def client(service: str) -> Any:
    """The cached boto3 client for `service` (thread safe; boto3 clients themselves are)."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    with _lock:
        if service not in _clients:
            from botocore.config import Config

            _clients[service] = _shared_session().client(service, config=Config(retries=_RETRIES, **_TIMEOUTS))
        return _clients[service]


def _shared_session() -> Any:
    """The process's boto3 session (call with `_lock` held)."""
    global _session
    if _session is None:
        import boto3

        _session = boto3.session.Session()
    return _session


def reset() -> None:
    """Forget every cached client and the session (tests switch credentials, endpoints and moto contexts;
    the session caches the credentials it resolved)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None


def error_code(exc: BaseException) -> str:
    """A log-safe code for an exception: the AWS error code or the class name, never its message."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """Throttling, server-side failures and timeouts: worth retrying later."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status == 429 or code in _TRANSIENT_CODES
    return False


_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerException",
        "InternalServiceException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionConflictException",
        "RequestTimeout",
    }
)


def page_items(call: Callable[..., Mapping[str, Any]], key: str, **request: Any) -> Iterator[Any]:
    """The items under `key` of every page of an AWS list call that pages with NextToken, in order. A page is asked
    for only when the items before it are used up (a search that stops at its match makes no further call). A
    repeated token ends the listing: it would loop forever (botocore's paginator refuses it too). A loop rather
    than botocore's paginator: `get_paginator` loads the pagination model and rescans botocore's ~440 service
    directories (~9 ms CPU of a cold start) for what is one or two pages here."""
    seen: set[str] = set()
    while True:
        page = call(**request)
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token or token in seen:
            return
        seen.add(token)
        request["NextToken"] = token
