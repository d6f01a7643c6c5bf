"""The public payload corpus (tests/messaging/fixtures_public/): Meta webhook bodies and Connect stream
records written by others, each with its source. See that directory's README for provenance and licences."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures_public"
# A Page the replay deployment deliberately does not serve: its events must be ignored with 200 and counted.
UNSERVED_PAGE = "<OTHER_PAGE_ID>"


@dataclass(frozen=True)
class WebhookCase:
    id: str
    source: str  # the fixture file's `source`
    origin: str  # where in that source
    body: dict[str, Any]

    @property
    def raw(self) -> bytes:
        return json.dumps(self.body).encode()  # \uXXXX escapes, as Meta sends

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(entry key, item) for every messaging/standby item and every messaging `changes` value."""
        for entry in self.body.get("entry") or []:
            if not isinstance(entry, dict):
                continue
            for key in ("messaging", "standby"):
                for item in entry.get(key) or []:
                    yield key, item
            for change in entry.get("changes") or []:
                if isinstance(change, dict) and isinstance(change.get("value"), dict):
                    yield "changes", change["value"]


@dataclass(frozen=True)
class StreamCase:
    id: str
    source: str
    origin: str
    message: dict[str, Any]
    attributes: dict[str, str]

    def readdressed(self, contact_id: str) -> tuple[str, dict[str, Any]]:
        """The record as SNS delivers it for the chat `contact_id`: (message JSON, message attributes)."""
        message = json.loads(json.dumps(self.message).replace("INITIAL_CONTACT_ID", contact_id))
        attributes = {
            k: {"Type": "String", "Value": v.replace("INITIAL_CONTACT_ID", contact_id)}
            for k, v in self.attributes.items()
        }
        return json.dumps(message), attributes


def _documents() -> Iterator[dict[str, Any]]:
    for path in sorted(FIXTURES.glob("*.json")):
        yield json.loads(path.read_text())


@lru_cache(maxsize=1)
def webhook_cases() -> tuple[WebhookCase, ...]:
    return tuple(
        WebhookCase(p["id"], doc["source"], p["origin"], p["body"])
        for doc in _documents()
        for p in doc["payloads"]
        if "body" in p
    )


@lru_cache(maxsize=1)
def stream_cases() -> tuple[StreamCase, ...]:
    return tuple(
        StreamCase(p["id"], doc["source"], p["origin"], p["record"]["message"], p["record"]["attributes"])
        for doc in _documents()
        for p in doc["payloads"]
        if "record" in p
    )


def case(case_id: str) -> WebhookCase:
    return next(c for c in webhook_cases() if c.id == case_id)


@lru_cache(maxsize=1)
def served_accounts() -> tuple[str, ...]:
    """Every Page / Instagram account id the corpus writes to (recipient of customer items, entry ids),
    except the one kept unserved on purpose: the replay deployment's PAGE_TOKENS serve them all."""
    ids: set[str] = set()
    for c in webhook_cases():
        for entry in c.body.get("entry") or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                ids.add(entry["id"])
        for _, item in c.items():
            if not isinstance(item, dict) or (item.get("message") or {}).get("is_echo"):
                continue  # an echo's recipient is the customer
            recipient = (item.get("recipient") or {}).get("id")
            if isinstance(recipient, str):
                ids.add(recipient)
    ids.discard(UNSERVED_PAGE)
    return tuple(sorted(ids))
