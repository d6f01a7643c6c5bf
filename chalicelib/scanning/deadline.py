"""The moment by which a decision must be made: before Connect stops waiting (docs/reference/file-scanner.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.scanning.reasons import Reason, Rejected


@dataclass(frozen=True)
class Deadline:
    expires_at: float  # time.monotonic() seconds
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def for_invocation(cls, context: Any, budget_ms: int, margin_ms: int) -> Deadline:
        """Our own budget, cut short by the Lambda's remaining time less a margin to answer in.

        Connect allows 60 s in total *including its retries* (docs/reference/file-scanner.md), so the budget, not the
        Lambda timeout, is what normally decides.
        """
        allowed_ms = float(budget_ms)
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            try:
                allowed_ms = min(allowed_ms, float(remaining()) - margin_ms)
            except (TypeError, ValueError):
                allowed_ms = 0.0
        return cls.after(max(allowed_ms, 0.0) / 1000.0)

    def remaining(self) -> float:
        return self.expires_at - self.clock()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise Rejected(Reason.DEADLINE_EXCEEDED)
