"""The dedupe log: at-most-once processing per message id, in the sessions table.

Items `dedupe#<scope>#<sha256 of key>`: one per processed key, `processing` under a lease or `done`, kept
>= 48 h (Meta redelivers for hours). A lease lets a crashed attempt be taken over once it runs out.
How a use case goes through claim, complete and release is messaging/once.py.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any

from chalicelib.messaging.store.table import Table

DEDUPE_RETENTION_SECONDS = 48 * 3600


class Claim(str, enum.Enum):
    CLAIMED = "claimed"  # first attempt (or a crashed attempt's lease ran out): process it
    DUPLICATE = "duplicate"  # already processed: skip
    IN_PROGRESS = "in_progress"  # another attempt holds the lease right now: retry later


def dedupe_pk(scope: str, key: str) -> str:
    # Hashed: keys may be long (mids) or include a PSID; the record only has to be unique.
    return f"dedupe#{scope}#{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


class DedupeLog:
    """At-most-once processing per message id, with a lease so a crashed attempt can be retried."""

    def __init__(self, client: Any, table: str):
        self._db = Table(client, table)

    def claim(self, scope: str, key: str, now: float, lease_seconds: float = 30.0, holder: str = "") -> Claim:
        """`holder` (a random token per attempt) marks the claim as ours: a write whose answer was lost and
        that the SDK retried finds our own claim and takes it (it was IN_PROGRESS, for 30 s, before issue 17),
        and `release` removes only our own claim, never one another attempt took over after our lease."""
        pk = dedupe_pk(scope, key)
        item = {
            "pk": pk,
            "kind": "dedupe",
            "state": "processing",
            "lease_until": now + lease_seconds,
            "expires_at": int(now + DEDUPE_RETENTION_SECONDS),
        }
        condition = "attribute_not_exists(pk) OR expires_at < :now OR (#state = :processing AND lease_until < :now)"
        values: dict[str, Any] = {":now": now, ":processing": "processing"}
        if holder:
            item["holder"] = holder
            condition += " OR (#state = :processing AND holder = :holder)"
            values[":holder"] = holder
        if self._db.put(item, condition, values):
            return Claim.CLAIMED
        existing = self._db.get(pk, now)
        if existing is None:  # released between the two calls: the caller retries later
            return Claim.IN_PROGRESS
        if existing.get("state") == "done":
            return Claim.DUPLICATE
        return Claim.CLAIMED if holder and existing.get("holder") == holder else Claim.IN_PROGRESS

    def complete(self, scope: str, key: str, now: float, outcome: str = "done") -> None:
        self._db.update(
            dedupe_pk(scope, key),
            "SET #state = :done, outcome = :outcome, expires_at = :expires REMOVE lease_until, holder",
            {":done": "done", ":outcome": outcome, ":expires": int(now + DEDUPE_RETENTION_SECONDS)},
            None,
        )

    def release(self, scope: str, key: str, holder: str = "") -> None:
        """Give up a claim after a transient failure, so Meta's retry can claim it at once. With `holder`,
        only our own claim is released."""
        if holder:
            self._db.delete(
                dedupe_pk(scope, key),
                "#state = :processing AND holder = :holder",
                {":processing": "processing", ":holder": holder},
            )
            return
        self._db.delete(dedupe_pk(scope, key), "#state = :processing", {":processing": "processing"})
