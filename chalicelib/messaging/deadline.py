"""One total time budget for a webhook call, created where the call enters and handed down.

The webhook endpoint makes one `Deadline` per POST (`WEBHOOK_DEADLINE_SECONDS`, default 15 s: Meta's
documented 20 s webhook timeout minus the Connect calls that follow a download; the api_handler Lambda
itself stops at 28 s, .chalice/config.json). Everything that can wait on someone else inside the call takes
its time from the same object: connect and read timeouts of each download, every streamed read, the wait a
`Retry-After` asks for. Several attachments share one budget; none of them can restart the clock.

`clock` is injectable (tests advance it per call; no wall clock in assertions).
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_DEADLINE_SECONDS = 15.0


class Deadline:
    __slots__ = ("_at", "_clock", "budget")

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.budget = seconds
        self._clock = clock
        self._at = clock() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._at - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self._at

    def cap(self, seconds: float) -> float:
        """`seconds`, or what is left of the budget if that is less."""
        return min(seconds, self.remaining())
