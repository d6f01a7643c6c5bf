"""The Messenger app's secrets (`APP_SECRET`, `PAGE_TOKEN`, `VERIFY_TOKEN`) from Secrets Manager.

Cached for `MESSENGER_SECRET_CACHE_SECONDS` (and served a little longer if Secrets Manager is briefly
unavailable when the cache expires); `refresh()` forces a new read when a signature or a verify
token does not match (the secret may have been rotated), but at most once per `min_refresh_seconds`, so
a flood of forged requests cannot turn into a flood of Secrets Manager calls.

aws-lambda-powertools' parameters utility would do the TTL caching, but not the rate-limited forced
refresh, and costs ~45 ms of import on every cold start; this is 60 lines.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib.logs import get_logger, log_event
from chalicelib.messaging.errors import ConfigurationError, TransientError, aws_failure

_KEYS = ("APP_SECRET", "PAGE_TOKEN", "VERIFY_TOKEN")
_log = get_logger("messaging.secrets")


@dataclass(frozen=True)
class MessengerCredentials:
    """One version of the secret. `repr` shows nothing: these values must never reach a log."""

    app_secret: str = field(repr=False)
    page_token: str = field(repr=False)
    verify_token: str = field(repr=False)

    @classmethod
    def from_secret_string(cls, secret_string: str) -> "MessengerCredentials":
        try:
            document = json.loads(secret_string)
        except (TypeError, ValueError):
            raise ConfigurationError("secret_not_json") from None
        if not isinstance(document, dict):
            raise ConfigurationError("secret_not_json_object")
        missing = [key for key in _KEYS if not isinstance(document.get(key), str) or not document[key]]
        if missing:
            raise ConfigurationError("secret_missing_" + "_".join(k.lower() for k in missing))
        return cls(document["APP_SECRET"], document["PAGE_TOKEN"], document["VERIFY_TOKEN"])


class MessengerSecrets:
    """TTL-cached Messenger credentials with a rate-limited forced refresh (thread safe)."""

    def __init__(
        self,
        secret_id: str,
        ttl_seconds: float,
        client_factory: Callable[[], Any] | None = None,
        min_refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._secret_id = secret_id
        self._ttl = ttl_seconds
        self._client_factory = client_factory or _secretsmanager
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._value: MessengerCredentials | None = None
        self._fetched_at = float("-inf")

    def current(self) -> MessengerCredentials:
        """The cached credentials, read again once the TTL has passed."""
        value = self._value
        if value is not None and self._clock() - self._fetched_at < self._ttl:
            return value
        with self._lock:
            if self._value is None or self._clock() - self._fetched_at >= self._ttl:
                try:
                    self._store(self._fetch())
                except TransientError as exc:
                    if self._value is None:
                        raise
                    # Secrets Manager is briefly unavailable: keep the value we have, try again soon.
                    self._fetched_at = self._clock() - self._ttl + self._min_refresh
                    log_event(_log, "secret_refresh_failed", logging.WARNING, error=exc.code)
            return self._value

    def refresh(self) -> MessengerCredentials | None:
        """Read the secret again now (after a mismatch). None when nothing new can be learnt yet:
        refreshed too recently, or the secret did not change."""
        with self._lock:
            if self._value is not None and self._clock() - self._fetched_at < self._min_refresh:
                return None
            try:
                fresh = self._fetch()
            except TransientError:
                # Secrets Manager is down: nothing new can be learnt, so the request stays what it
                # was (a bad signature is 403, not 503).
                return None
            changed = fresh != self._value
            self._store(fresh)
            return fresh if changed else None

    def _store(self, value: MessengerCredentials) -> None:
        self._value = value
        self._fetched_at = self._clock()

    def _fetch(self) -> MessengerCredentials:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client_factory().get_secret_value(SecretId=self._secret_id)
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "secret_unavailable", "secret_unreadable") from None
        return MessengerCredentials.from_secret_string(response.get("SecretString"))


def _secretsmanager():
    from chalicelib import aws

    return aws.client("secretsmanager")
