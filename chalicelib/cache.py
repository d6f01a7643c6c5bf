"""A value read from a slow store (Secrets Manager, SSM), kept for a TTL, refreshed on demand but not too often.

Used by the Messenger secrets (messaging/meta/secrets.py) and the IVR keys (ivr/keys.py). Per container,
thread safe:

- `get()` returns the cached value, and reads it again once `ttl_seconds` have passed;
- `refresh()` reads it again now (a signature that does not match, a key id we do not know: perhaps the
  value was rotated), but at most once per `min_refresh_seconds` since the last read or attempt, so a flood
  of forged requests cannot become a flood of calls to the store; it returns None when it did not read;
- a read that fails with one of the `keep_on` errors while a value is cached keeps that value for at least
  `min_refresh_seconds` more (the store is briefly unavailable: the value we have is still good), and tells
  `on_kept`; with nothing cached, the error goes to the caller.

aws-lambda-powertools' parameters utility caches by TTL, but has neither the rate-limited forced refresh nor
the "keep serving on failure" rule; this is 50 lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class RefreshingCache(Generic[T]):
    def __init__(
        self,
        fetch: Callable[[], T],
        *,
        ttl_seconds: float,
        min_refresh_seconds: float,
        keep_on: tuple[type[Exception], ...],
        on_kept: Callable[[Exception, T], None] = lambda error, value: None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._keep_on = keep_on
        self._on_kept = on_kept
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._expires_at = float("-inf")
        self._last_attempt = float("-inf")

    def get(self) -> T:
        """The cached value, read again once the TTL has passed."""
        value = self._value
        if value is not None and self._clock() < self._expires_at:
            return value
        with self._lock:
            if self._value is None or self._clock() >= self._expires_at:
                self._read()
            assert self._value is not None  # _read stored one or raised
            return self._value

    @property
    def cached(self) -> T | None:
        """The value held now, without reading anything."""
        return self._value

    def refresh(self) -> T | None:
        """The value read again now; None when it was read too recently, or the read failed and the cached
        value was kept."""
        with self._lock:
            if self._value is not None and self._clock() - self._last_attempt < self._min_refresh:
                return None
            return self._read()

    def _read(self) -> T | None:
        now = self._last_attempt = self._clock()
        try:
            value = self._fetch()
        except self._keep_on as error:
            if self._value is None:
                raise
            self._expires_at = max(self._expires_at, now + self._min_refresh)
            self._on_kept(error, self._value)
            return None
        self._value = value
        self._expires_at = now + self._ttl
        return value
