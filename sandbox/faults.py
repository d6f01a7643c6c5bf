"""Fault injection for the sandbox's emulators (`make chaos`): what production's dependencies do on a bad day.

A `Faults` object holds the plan (rates per fault kind), one seeded random generator and the counts of
faults injected. It wraps the emulators' routers without changing them:

- Connect (`connect`, `connectparticipant`, presigned attachment URLs): 429 `ThrottlingException` or 500
  `InternalServerException` *before* the call runs, and 500 *after* it ran (the answer was lost: only the
  ClientToken keeps the retry from adding a second message);
- DynamoDB: a proxy in front of moto (which it also makes write atomically, as DynamoDB does) answering `ThrottlingException` before the call, or 500 after a write
  was applied (the client cannot tell; a claim must recognise its own item);
- Graph: 500 before the send, or a "timeout": the message is delivered and the answer comes later than
  the client waits (Graph has no idempotency key, so a blind resend is a duplicate);
- the CDN: downloads that start late and trickle.

Token expiry (a short connection TTL), SNS and Meta redelivery are driven by `sandbox/chaos.py`, which
owns the clock of the run. Rates are probabilities per call; everything is reproducible from `seed`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from sandbox.httpkit import HttpError, Request, Response, Router


@dataclass(frozen=True)
class FaultPlan:
    connect_throttle: float = 0.05
    connect_5xx: float = 0.03
    connect_lost_answer: float = 0.02  # the call ran; the caller sees a 500
    dynamodb_throttle: float = 0.05
    dynamodb_lost_answer: float = 0.01  # a write was applied; the caller sees a 500
    graph_5xx: float = 0.05
    graph_timeout: float = 0.01  # delivered, answered after the client's read timeout
    graph_timeout_seconds: float = 11.0  # the app's Graph read timeout is 10 s
    cdn_slow: float = 0.5  # share of CDN downloads that start late and trickle
    cdn_first_byte_seconds: float = 1.0
    cdn_trickle_seconds: float = 2.0
    connection_ttl_seconds: float = 90.0  # ConnectionToken lifetime: renewals happen during the run
    sns_redelivery: float = 0.10  # share of stream items SNS delivers twice
    meta_redelivery: float = 0.10  # share of webhook posts Meta sends again after a 200
    seed: int = 17

    @classmethod
    def none(cls) -> FaultPlan:
        """No faults: the baseline run."""
        # Only the float rates; typed Any because mypy checks a ** argument against every field, `seed` too.
        zero: dict[str, Any] = {
            f.name: 0.0
            for f in fields(cls)
            if f.name.endswith(("_throttle", "_5xx", "_lost_answer", "_timeout", "_slow", "_redelivery"))
        }
        return cls(**zero)

    def describe(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Faults:
    def __init__(self, plan: FaultPlan):
        self.plan = plan
        self._random = random.Random(plan.seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def roll(self, kind: str, rate: float) -> bool:
        """True (and counted) with probability `rate`."""
        if rate <= 0:
            return False
        with self._lock:
            hit = self._random.random() < rate
            if hit:
                self.injected[kind] += 1
        return hit

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.injected.items()))

    def uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._random.uniform(low, high)

    # ------------------------------------------------------------------------------------- Connect

    def connect(self, router: Router) -> FaultyRouter:
        plan = self.plan

        def before(request: Request) -> Response | None:
            if request.path == "/":  # Rekognition (the scanner's moderation call): not a Connect fault
                return None
            if self.roll("connect_throttle", plan.connect_throttle):
                return _aws_rest_error(429, "ThrottlingException", "Rate exceeded")
            if self.roll("connect_5xx", plan.connect_5xx):
                return _aws_rest_error(500, "InternalServerException", "Internal service error")
            return None

        def after(request: Request, response: Response) -> Response:
            if request.path == "/" or response.status >= 300:
                return response
            if self.roll("connect_lost_answer", plan.connect_lost_answer):
                return _aws_rest_error(500, "InternalServerException", "Internal service error")
            return response

        return FaultyRouter(router, before, after)

    # ------------------------------------------------------------------------------------- Graph

    def graph(self, router: Router) -> FaultyRouter:
        plan = self.plan

        def before(request: Request) -> Response | None:
            if self.roll("graph_5xx", plan.graph_5xx):
                return Response.json(
                    {
                        "error": {
                            "message": "An unexpected error has occurred.",
                            "type": "OAuthException",
                            "code": 2,
                            "is_transient": True,
                            "fbtrace_id": "chaos",
                        }
                    },
                    500,
                )
            return None

        def after(request: Request, response: Response) -> Response:
            if response.status == 200 and self.roll("graph_timeout", plan.graph_timeout):
                time.sleep(plan.graph_timeout_seconds)  # delivered already; the client has given up by now
            return response

        return FaultyRouter(router, before, after)

    # ------------------------------------------------------------------------------------- DynamoDB

    def dynamodb_proxy(self, moto_url: str) -> Router:
        """A router forwarding every request to moto, with DynamoDB's throttling and lost answers."""
        target = urlsplit(moto_url)
        plan = self.plan
        # moto checks a condition and then writes without a lock, so two concurrent conditional writes can
        # both pass: a race DynamoDB never has. Writes go through one at a time, as they are atomic on AWS;
        # and moto writes an item attribute by attribute, so a read must not run beside a write (it could see
        # a new version number beside an old value). Reads run beside each other.
        lock = _ReadWriteLock()

        def forward(request: Request) -> Response:
            operation = (request.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
            if self.roll("dynamodb_throttle", plan.dynamodb_throttle):
                return _aws_json_error(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
            with lock.exclusive() if operation in _DYNAMODB_WRITES else lock.shared():
                response = _relay(target.hostname or "127.0.0.1", target.port or 80, request)
            if (
                operation in _DYNAMODB_WRITES
                and response.status == 200
                and self.roll("dynamodb_lost_answer", plan.dynamodb_lost_answer)
            ):
                return _aws_json_error(500, "InternalServerError", "Internal server error")
            return response

        return Router(fallback=forward)

    # ------------------------------------------------------------------------------------- CDN

    def cdn_delay(self) -> tuple[float, float]:
        """(seconds before the first byte, seconds spent trickling the rest) for one download."""
        if self.roll("cdn_slow", self.plan.cdn_slow):
            return self.plan.cdn_first_byte_seconds, self.plan.cdn_trickle_seconds
        return 0.0, 0.0


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before readers that come after it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            self._cond.wait_for(lambda: not self._writing and self._readers == 0)
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


_DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})


class FaultyRouter(Router):
    """A router's `dispatch` with a fault check before and after: what `httpkit.serve` needs."""

    def __init__(
        self,
        inner: Router,
        before: Callable[[Request], Response | None],
        after: Callable[[Request, Response], Response],
    ):
        super().__init__()
        self._inner = inner
        self._before = before
        self._after = after

    def dispatch(self, request: Request) -> Response:
        injected = self._before(request)
        if injected is not None:
            return injected
        try:
            response = self._inner.dispatch(request)
        except HttpError as exc:
            return exc.response
        return self._after(request, response)


def _aws_rest_error(status: int, code: str, message: str) -> Response:
    return Response.json({"Message": message, "message": message}, status, {"x-amzn-ErrorType": code})


def _aws_json_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    return Response(status, body, {"Content-Type": "application/x-amz-json-1.0"})


_SKIPPED_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


def _relay(host: str, port: int, request: Request) -> Response:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIPPED_HEADERS}
        headers["Host"] = f"{host}:{port}"
        connection.request(request.method, request.raw_path or request.path, body=request.body, headers=headers)
        answer = connection.getresponse()
        body = answer.read()
        kept = {k: v for k, v in answer.getheaders() if k.lower() not in _SKIPPED_HEADERS}
        return Response(answer.status, body, kept)
    finally:
        connection.close()


def trickle(
    write: Callable[[bytes], Any], data: bytes, first_byte_seconds: float, trickle_seconds: float, pieces: int = 8
) -> None:
    """Send `data` late and in pieces (a slow CDN edge)."""
    time.sleep(first_byte_seconds)
    if trickle_seconds <= 0 or len(data) < pieces:
        write(data)
        return
    step = -(-len(data) // pieces)
    for start in range(0, len(data), step):
        write(data[start : start + step])
        time.sleep(trickle_seconds / pieces)
