"""Exactly once per key: claim it in the dedupe log, do the work, complete the claim or release it.

    once = Once(dedupe_log, scope="stream")
    result = once.run(key, work, outcome=lambda result: "sent", busy="send_in_progress")

- already done: `run` returns None and the work is not done again;
- held by another attempt right now: raises `TransientError(busy)` so the sender retries later (or, with
  `busy=None`, returns None: the work is skipped);
- the work raised: the claim is released, so the sender's retry can claim it at once, and the error goes on
  (a failed release is logged: the lease runs out on its own, and the original error matters more);
- the work returned: the claim is completed with `outcome(result)`. A failed completion is logged and not
  raised: the work happened, and a retry must not repeat it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from chalicelib.logs import get_logger, log_error, log_event
from chalicelib.messaging.errors import TransientError
from chalicelib.messaging.ports import Dedupe
from chalicelib.messaging.store.dedupe import Claim

T = TypeVar("T")

_log = get_logger("messaging.once")


class Once:
    def __init__(self, log: Dedupe, scope: str, *, lease_seconds: float = 30.0, clock: Callable[[], float] = time.time):
        self._log = log
        self._scope = scope
        self._lease = lease_seconds
        self._clock = clock

    def run(self, key: str, work: Callable[[], T], outcome: Callable[[T], str], busy: str | None) -> T | None:
        # A fresh clock per claim (a slow earlier part must not make this lease start in the past) and a
        # holder token per attempt (only our own claim is taken back or released).
        holder = uuid.uuid4().hex
        claim = self._log.claim(self._scope, key, self._clock(), lease_seconds=self._lease, holder=holder)
        if claim is Claim.DUPLICATE:
            return None
        if claim is Claim.IN_PROGRESS:
            if busy is None:
                return None
            raise TransientError(busy)
        try:
            result = work()
        except BaseException:
            self._release(key, holder)
            raise
        try:
            self._log.complete(self._scope, key, self._clock(), outcome(result))
        except Exception as exc:
            log_error(_log, "dedupe_complete_failed", exc, scope=self._scope)
        return result

    def _release(self, key: str, holder: str) -> None:
        try:
            self._log.release(self._scope, key, holder=holder)
        except Exception as exc:
            log_event(_log, "dedupe_release_failed", logging.WARNING, scope=self._scope, error=type(exc).__name__)
