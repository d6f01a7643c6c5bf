"""The Messenger app's secrets (`APP_SECRET`, `VERIFY_TOKEN`, and `PAGE_TOKENS` and/or `PAGE_TOKEN` +
`PAGE_ID`: meta/accounts.py) from Secrets Manager.

Cached for `MESSENGER_SECRET_CACHE_SECONDS` (and served a little longer if Secrets Manager is briefly
unavailable when the cache expires); `refresh()` forces a new read when a signature or a verify
token does not match (the secret may have been rotated), but at most once per `min_refresh_seconds`, so
a flood of forged requests cannot turn into a flood of Secrets Manager calls.

The caching itself is chalicelib/cache.py (shared with the IVR keys).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.cache import RefreshingCache
from chalicelib.logs import get_logger, log_event
from chalicelib.messaging.errors import ConfigurationError, TransientError, aws_failure
from chalicelib.messaging.meta.accounts import AccountsError, MetaAccounts

_KEYS = ("APP_SECRET", "VERIFY_TOKEN")
_log = get_logger("messaging.secrets")


@dataclass(frozen=True)
class MessengerCredentials:
    """One version of the secret. `repr` shows nothing: these values must never reach a log."""

    app_secret: str = field(repr=False)
    accounts: MetaAccounts = field(repr=False)
    verify_token: str = field(repr=False)

    @property
    def page_token(self) -> str | None:
        """The token of a single-Page deployment (None when several accounts are served)."""
        return self.accounts.token_for(None)

    @classmethod
    def from_secret_string(cls, secret_string: str) -> MessengerCredentials:
        try:
            document = json.loads(secret_string)
        except (TypeError, ValueError):
            raise ConfigurationError("secret_not_json") from None
        if not isinstance(document, dict):
            raise ConfigurationError("secret_not_json_object")
        missing = [key for key in _KEYS if not isinstance(document.get(key), str) or not document[key]]
        if missing:
            raise ConfigurationError("secret_missing_" + "_".join(k.lower() for k in missing))
        try:
            accounts = MetaAccounts.from_secret(document)
        except AccountsError as problem:
            raise ConfigurationError("secret_" + problem.reason) from None
        return cls(document["APP_SECRET"], accounts, document["VERIFY_TOKEN"])


class CredentialsSource(Protocol):
    """What reading the credentials needs (wiring.page_credentials): MessengerSecrets, or a stand-in."""

    def current(self) -> MessengerCredentials: ...
    def refresh(self) -> MessengerCredentials | None: ...


class MessengerSecrets:
    """TTL-cached Messenger credentials with a rate-limited forced refresh (chalicelib/cache.py)."""

    def __init__(
        self,
        secret_id: str,
        ttl_seconds: float,
        client_factory: Callable[[], Any] | None = None,
        min_refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._secret_id = secret_id
        self._client_factory = client_factory or _secretsmanager
        # Secrets Manager briefly unavailable: keep the value we have, try again soon.
        self._cache = RefreshingCache(
            self._fetch,
            ttl_seconds=ttl_seconds,
            min_refresh_seconds=min_refresh_seconds,
            keep_on=(TransientError,),
            on_kept=_log_kept,
            clock=clock,
        )

    def current(self) -> MessengerCredentials:
        """The cached credentials, read again once the TTL has passed."""
        return self._cache.get()

    def refresh(self) -> MessengerCredentials | None:
        """Read the secret again now (after a mismatch). None when nothing new can be learnt yet:
        refreshed too recently, Secrets Manager is down (so a bad signature stays 403, not 503), or the
        secret did not change."""
        before = self._cache.cached
        fresh = self._cache.refresh()
        return fresh if fresh is not None and fresh != before else None

    def _fetch(self) -> MessengerCredentials:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client_factory().get_secret_value(SecretId=self._secret_id)
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "secret_unavailable", "secret_unreadable") from None
        return MessengerCredentials.from_secret_string(response.get("SecretString"))


def _log_kept(error: Exception, _value: MessengerCredentials) -> None:
    log_event(_log, "secret_refresh_failed", logging.WARNING, error=getattr(error, "code", None))


def _secretsmanager() -> Any:
    from chalicelib import aws

    return aws.client("secretsmanager")
