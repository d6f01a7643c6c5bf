"""Invoking the app's non-HTTP entry points in the Lambda host, through the Lambda Invoke API.

`lambda_host.py` serves `POST /2015-03-31/functions/<name>/invocations` like AWS Lambda does: the
answer is the function's result, or its error with the `X-Amz-Function-Error` header.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Invocation:
    result: Any
    error: str | None  # the function's error type, or None when it returned

    @property
    def ok(self) -> bool:
        return self.error is None


class Invoker(Protocol):
    """What the emulators need to run a function: LambdaInvoker, or a scripted stand-in in tests."""

    def invoke(self, function: str, event: dict, timeout: float = 60.0) -> Invocation: ...


class LambdaInvoker:
    def __init__(self, base_url: str):
        self._base_url = base_url.rstrip("/")

    def invoke(self, function: str, event: dict, timeout: float = 60.0) -> Invocation:
        request = urllib.request.Request(
            f"{self._base_url}/2015-03-31/functions/{function}/invocations",
            data=json.dumps(event).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                body = answer.read()
                error = answer.headers.get("X-Amz-Function-Error")
        except urllib.error.HTTPError as exc:
            return Invocation(None, f"HTTP{exc.code}")
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            return Invocation(None, type(exc).__name__)
        result = json.loads(body) if body else None
        if error:
            kind = result.get("errorType", error) if isinstance(result, dict) else error
            return Invocation(result, kind)
        return Invocation(result, None)
