"""The Messenger webhook as HTTP: status codes for verification and delivery (docs/reference/messenger-webhook.md).

GET  -> 200 + challenge (text/plain) | 400 parameters missing | 403 wrong mode or token
POST -> 413 too large | 403 signature missing or wrong (before anything is parsed) | 400 not JSON or not
        a page webhook | 503 a dependency failed transiently (Meta retries; nothing is duplicated)
        | 500 misconfigured deployment (Meta retries while it is fixed) | 200 processed

Per-event problems (an ignored kind, an unparseable item, content Connect refuses) answer 200 with a
reason code in the log: Meta retries every non-200, so refusing them would only loop.

Each POST gets one `Deadline` (`WEBHOOK_DEADLINE_SECONDS`) when it enters, handed to every event's use case:
all attachment downloads of the call share it. When it has run out before an event starts, the call stops
there with 503 (`webhook_deadline_exceeded`): the events not started were never claimed, Meta redelivers the
batch, and the events already done are deduped (docs/reliability.md#one-deadline-per-webhook-call).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.logs import Timer, get_logger, log_error, log_event
from chalicelib.messaging.deadline import DEFAULT_DEADLINE_SECONDS, Deadline
from chalicelib.messaging.errors import ConfigurationError, TransientError
from chalicelib.messaging.meta.webhook import (
    Echo,
    PayloadError,
    Subscription,
    parse_payload,
    signature_matches,
    signature_well_formed,
    token_matches,
)

_log = get_logger("messaging.webhook")


@dataclass(frozen=True)
class Reply:
    status: int
    body: str


OK = Reply(200, "EVENT_RECEIVED")


class MessengerWebhook:
    def __init__(
        self,
        secrets: Any,
        inbound: Callable[[], Any],
        max_body_bytes: int,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._secrets = secrets  # secrets.MessengerSecrets
        self._inbound = inbound  # builds (or returns the cached) InboundMessages on first POST
        self._max_body = max_body_bytes
        self._deadline_seconds = deadline_seconds
        self._clock = clock

    # -- GET

    def verify(self, query: Mapping[str, str] | None) -> Reply:
        subscription = Subscription.from_query(query)
        if not subscription.complete:
            log_event(_log, "webhook_verify_refused", logging.WARNING, reason="missing_parameters")
            return Reply(400, "missing hub.mode, hub.verify_token or hub.challenge")
        if subscription.mode != "subscribe":
            log_event(_log, "webhook_verify_refused", logging.WARNING, reason="wrong_mode")
            return Reply(403, "forbidden")
        try:
            accepted = self._with_fresh_secret(lambda c: token_matches(c.verify_token, subscription.verify_token or ""))
        except (TransientError, ConfigurationError) as exc:
            return self._dependency_failed("webhook_verify_failed", exc)
        if not accepted:
            log_event(_log, "webhook_verify_refused", logging.WARNING, reason="wrong_token")
            return Reply(403, "forbidden")
        log_event(_log, "webhook_verified")
        return Reply(200, subscription.challenge or "")

    # -- POST

    def receive(self, raw_body: bytes | None, signature: str | None) -> Reply:
        timer = Timer()
        deadline = Deadline(self._deadline_seconds, self._clock)  # the one budget of this call
        raw_body = raw_body or b""
        if len(raw_body) > self._max_body:
            log_event(_log, "webhook_refused", logging.WARNING, reason="body_too_large", length=len(raw_body))
            return Reply(413, "payload too large")
        try:
            signed = signature_well_formed(signature) and self._with_fresh_secret(
                lambda c: signature_matches(c.app_secret, raw_body, signature)
            )
        except (TransientError, ConfigurationError) as exc:
            return self._dependency_failed("webhook_failed", exc)
        if not signed:
            log_event(_log, "webhook_refused", logging.WARNING, reason="bad_signature", length=len(raw_body))
            return Reply(403, "forbidden")
        try:
            events = parse_payload(raw_body)
        except PayloadError as exc:
            log_event(_log, "webhook_refused", logging.WARNING, reason=exc.reason, length=len(raw_body))
            return Reply(400, "not a Meta messaging webhook")
        return self._process(events, timer, deadline)

    def _process(self, events: tuple, timer: Timer, deadline: Deadline) -> Reply:
        counts: Counter[str] = Counter()
        inbound = self._inbound()
        try:
            accounts = self._secrets.current().accounts
        except (TransientError, ConfigurationError) as exc:
            return self._dependency_failed("webhook_failed", exc)
        for index, event in enumerate(events):
            origin = getattr(event, "origin", None)
            if origin is not None and not isinstance(event, Echo) and not accounts.serves(origin.account_id):
                # A Page or Instagram account this deployment does not serve: never a chat, never a retry.
                counts["ignored.unserved_account"] += 1
                continue
            if index and deadline.expired():
                # Nothing of this event was started or claimed: Meta's redelivery brings it (and the rest).
                late = TransientError("webhook_deadline_exceeded")
                return self._dependency_failed("webhook_failed", late, event_index=index, counts=dict(counts))
            try:
                outcome = inbound.handle(event, deadline)
            except (TransientError, ConfigurationError) as exc:
                # Stop here: Meta's retry replays the whole batch in order; what was done is deduped.
                return self._dependency_failed("webhook_failed", exc, event_index=index, counts=dict(counts))
            except Exception as exc:  # a bug: log its code only (messages and tracebacks quote data)
                log_error(_log, "webhook_crashed", exc, event_index=index, kind=getattr(event, "kind", None))
                return Reply(500, "internal error")
            counts[f"{outcome.result}.{outcome.reason}"] += 1
            if outcome.result in ("delivered", "rejected"):
                log_event(
                    _log,
                    f"message_{outcome.result}",
                    kind=event.kind,
                    reason=outcome.reason,
                    contact_id=outcome.contact_id,
                )
        log_event(_log, "webhook_processed", events=len(events), outcomes=dict(counts), elapsed_ms=timer.ms)
        return OK

    # -- helpers

    def _with_fresh_secret(self, check: Callable[[Any], bool]) -> bool:
        """`check` against the cached secret, and once more against a freshly read one if it fails
        (the secret may have been rotated since it was cached)."""
        if check(self._secrets.current()):
            return True
        fresh = self._secrets.refresh()
        return fresh is not None and check(fresh)

    @staticmethod
    def _dependency_failed(event: str, exc: TransientError | ConfigurationError, **fields: Any) -> Reply:
        transient = isinstance(exc, TransientError)
        log_event(_log, event, logging.ERROR, reason=exc.reason, error=exc.code, **fields)
        return Reply(503, "temporarily unavailable") if transient else Reply(500, "misconfigured")
