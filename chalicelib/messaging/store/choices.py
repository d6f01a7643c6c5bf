"""The numbered list a customer was last offered, so a typed "2" reaches the agent or bot as option 2.

Item `choices#<initial contact id>`: the option titles (the bot's words, after outbound redaction) and a
random `list_id`, kept 24 h at most. Written when a list too long for quick replies is sent as numbers; read
when the customer answers with a number, and cleared once that answer has been delivered, only if it is still
the same list (`list_id`): a list offered meanwhile stays. Reading does not clear it, so a retry of the answer
(Meta's, or a redaction redone after a concurrent write) maps the number the same way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib.messaging.store.table import Table

CHOICES_RETENTION_SECONDS = 24 * 3600
MAX_CHOICES = 50


def choices_pk(contact_id: str) -> str:
    return f"choices#{contact_id}"


@dataclass(frozen=True)
class Offered:
    titles: tuple[str, ...] = ()
    list_id: str = ""  # "" for an item written before list ids


class ChoiceStore:
    def __init__(self, client: Any, table: str):
        self._db = Table(client, table)

    def remember(self, contact_id: str, titles: tuple[str, ...], now: float) -> None:
        self._db.put(
            {
                "pk": choices_pk(contact_id),
                "titles": list(titles[:MAX_CHOICES]),
                "list_id": uuid.uuid4().hex,
                "expires_at": int(now + CHOICES_RETENTION_SECONDS),
            },
            None,
            None,
        )

    def recall(self, contact_id: str, now: float) -> Offered:
        item = self._db.get(choices_pk(contact_id), now) or {}
        titles = item.get("titles")
        list_id = item.get("list_id")
        return Offered(
            tuple(t for t in titles if isinstance(t, str)) if isinstance(titles, list) else (),
            list_id if isinstance(list_id, str) else "",
        )

    def forget(self, contact_id: str, list_id: str) -> None:
        """Clear the list `list_id`, if it is still the one offered (a conditional delete)."""
        if list_id:
            self._db.delete(choices_pk(contact_id), "list_id = :id", {":id": list_id})
        else:
            self._db.delete(choices_pk(contact_id), "attribute_exists(pk) AND attribute_not_exists(list_id)", {})
