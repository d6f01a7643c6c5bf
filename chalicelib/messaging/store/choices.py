"""The numbered list a customer was last offered, so a typed "2" reaches the agent or bot as option 2.

Item `choices#<initial contact id>`: the option titles (the bot's words, after outbound redaction), kept
24 h at most. Written when a list too long for quick replies is sent as numbers; read and cleared when
the customer answers with a number.
"""

from __future__ import annotations

from typing import Any

from chalicelib.messaging.store.table import Table

CHOICES_RETENTION_SECONDS = 24 * 3600
MAX_CHOICES = 50


def choices_pk(contact_id: str) -> str:
    return f"choices#{contact_id}"


class ChoiceStore:
    def __init__(self, client: Any, table: str):
        self._db = Table(client, table)

    def remember(self, contact_id: str, titles: tuple[str, ...], now: float) -> None:
        self._db.put(
            {
                "pk": choices_pk(contact_id),
                "titles": list(titles[:MAX_CHOICES]),
                "expires_at": int(now + CHOICES_RETENTION_SECONDS),
            },
            None,
            None,
        )

    def recall(self, contact_id: str, now: float) -> tuple[str, ...]:
        item = self._db.get(choices_pk(contact_id), now)
        titles = item.get("titles") if item else None
        return tuple(t for t in titles if isinstance(t, str)) if isinstance(titles, list) else ()

    def forget(self, contact_id: str) -> None:
        self._db.put({"pk": choices_pk(contact_id), "titles": [], "expires_at": 0}, None, None)
