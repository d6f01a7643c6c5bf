"""The Messenger webhook's contract (docs/reference/messenger-webhook.md): verification, signature, and typed events.

Pure functions over bytes and dicts, no I/O: `parse_payload(raw_body)` turns a POST body into a tuple of
small frozen dataclasses, one per `messaging[]`/`standby[]` item, in order. An item that does not fit
any known shape becomes `Unparseable(reason)`, never an exception: one odd item must not make Meta
retry (and re-deliver) the whole batch. Only a body that is not a page webhook at all raises
`PayloadError`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SIGNATURE_PREFIX = "sha256="


class PayloadError(ValueError):
    """The body is not a Messenger page webhook. `reason` is a log-safe code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------------- verification


def signature_matches(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256` check: `sha256=` + hex HMAC-SHA256 of the raw body, in constant time."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(
        expected.encode("ascii"), header[len(SIGNATURE_PREFIX) :].strip().lower().encode("utf-8")
    )


def signature_well_formed(header: str | None) -> bool:
    """Worth checking at all (a missing or foreign header never triggers a secret refresh)."""
    return header is not None and header.startswith(SIGNATURE_PREFIX) and len(header) == len(SIGNATURE_PREFIX) + 64


def token_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


@dataclass(frozen=True)
class Subscription:
    """A GET verification request. `None` fields were absent."""

    mode: str | None
    verify_token: str | None
    challenge: str | None

    @classmethod
    def from_query(cls, query: Mapping[str, str] | None) -> Subscription:
        query = query or {}
        return cls(query.get("hub.mode"), query.get("hub.verify_token"), query.get("hub.challenge"))

    @property
    def complete(self) -> bool:
        return self.mode is not None and self.verify_token is not None and bool(self.challenge)


# --------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Origin:
    """Who sent an item, to whom, when. For echoes the sender is the Page."""

    sender_id: str
    recipient_id: str
    timestamp_ms: int
    standby: bool = False  # another app owns the thread (handover protocol): do not act on it


@dataclass(frozen=True)
class Text:
    origin: Origin
    mid: str
    text: str
    reply_to_mid: str | None = None
    kind = "text"


@dataclass(frozen=True)
class QuickReplyTap:
    origin: Origin
    mid: str
    text: str  # the button title the customer tapped
    payload: str  # the developer payload: ours, not the customer's words
    kind = "quick_reply"


@dataclass(frozen=True)
class Postback:
    origin: Origin
    mid: str | None  # present since Graph v11.0
    title: str
    payload: str
    kind = "postback"


@dataclass(frozen=True)
class Attachment:
    type: str  # image, video, audio, file, ... (docs/reference/messenger-webhook.md)
    url: str | None
    sticker_id: str | None = None


@dataclass(frozen=True)
class Attachments:
    origin: Origin
    mid: str
    attachments: tuple[Attachment, ...]
    text: str | None = None
    kind = "attachments"


@dataclass(frozen=True)
class Echo:
    origin: Origin
    mid: str | None
    app_id: str | None
    kind = "echo"


@dataclass(frozen=True)
class DeliveryReceipt:
    origin: Origin
    mids: tuple[str, ...]
    watermark: int
    kind = "delivery"


@dataclass(frozen=True)
class Read:
    origin: Origin
    watermark: int
    kind = "read"


@dataclass(frozen=True)
class Reaction:
    origin: Origin
    mid: str | None
    reaction: str | None
    emoji: str | None
    action: str | None
    kind = "reaction"


@dataclass(frozen=True)
class Other:
    """A known event we do not act on (optin, referral, message_edit, handover, policy_enforcement...)."""

    origin: Origin
    name: str
    kind = "other"


@dataclass(frozen=True)
class Unparseable:
    reason: str
    kind = "unparseable"


CustomerMessage = Text | QuickReplyTap | Postback | Attachments
Event = Text | QuickReplyTap | Postback | Attachments | Echo | DeliveryReceipt | Read | Reaction | Other | Unparseable

_OTHER_KINDS = (
    "message_edit",
    "optin",
    "referral",
    "account_linking",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
    "policy_enforcement",
    "game_play",
    "checkout_update",
    "payment",
)


def message_key(event: CustomerMessage) -> str:
    """Meta's message id; items without one by sender, timestamp and kind (docs/reference/messenger-webhook.md)."""
    if event.mid:
        return event.mid
    origin = event.origin
    return f"{origin.sender_id}:{origin.timestamp_ms}:{event.kind}"


# --------------------------------------------------------------------------------------------- parsing


def parse_payload(raw_body: bytes) -> tuple[Event, ...]:
    """Every item of a page webhook body, in order. Raises `PayloadError` for a body that is not JSON
    or not a page webhook."""
    try:
        document = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PayloadError("not_json") from None
    if not isinstance(document, dict):
        raise PayloadError("not_an_object")
    if document.get("object") != "page":
        raise PayloadError("not_a_page_webhook")
    entries = document.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("no_entries")
    events: list[Event] = []
    for entry in entries:
        if not isinstance(entry, dict):
            events.append(Unparseable("entry_not_an_object"))
            continue
        for key, standby in (("messaging", False), ("standby", True)):
            items = entry.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                events.append(Unparseable(f"{key}_not_a_list"))
                continue
            events.extend(parse_item(item, standby) for item in items)
    return tuple(events)


def parse_item(item: Any, standby: bool = False) -> Event:
    """One `messaging[]` item as a typed event; never raises."""
    if not isinstance(item, dict):
        return Unparseable("item_not_an_object")
    origin = _origin(item, standby)
    if origin is None:
        return Unparseable("item_without_sender")
    message = item.get("message")
    if message is not None:
        return _message(origin, message)
    if "postback" in item:
        return _postback(origin, item["postback"])
    if "delivery" in item:
        delivery = _dict(item["delivery"])
        mids = delivery.get("mids")
        mids = tuple(m for m in mids if isinstance(m, str)) if isinstance(mids, list) else ()
        return DeliveryReceipt(origin, mids, _int(delivery.get("watermark")))
    if "read" in item:
        return Read(origin, _int(_dict(item["read"]).get("watermark")))
    if "reaction" in item:
        reaction = _dict(item["reaction"])
        return Reaction(
            origin,
            _str(reaction.get("mid")),
            _str(reaction.get("reaction")),
            _str(reaction.get("emoji")),
            _str(reaction.get("action")),
        )
    for name in _OTHER_KINDS:
        if name in item:
            return Other(origin, name)
    return Other(origin, "unknown")


def _message(origin: Origin, message: Any) -> Event:
    if not isinstance(message, dict):
        return Unparseable("message_not_an_object")
    mid = _str(message.get("mid"))
    if message.get("is_echo") is True:
        app_id = message.get("app_id")
        return Echo(origin, mid, str(app_id) if isinstance(app_id, (str, int)) else None)
    if not mid:
        return Unparseable("message_without_mid")
    text = _str(message.get("text"))
    attachments = message.get("attachments")
    if isinstance(attachments, list) and attachments:
        parsed = tuple(a for a in (_attachment(raw) for raw in attachments) if a is not None)
        if not parsed:
            return Unparseable("attachments_malformed")
        return Attachments(origin, mid, parsed, text or None)
    if text is None or text == "":
        return Unparseable("message_without_content")
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict):
        return QuickReplyTap(origin, mid, text, _str(quick_reply.get("payload")) or "")
    reply_to = _dict(message.get("reply_to")).get("mid")
    return Text(origin, mid, text, _str(reply_to))


def _postback(origin: Origin, postback: Any) -> Event:
    if not isinstance(postback, dict):
        return Unparseable("postback_not_an_object")
    title = _str(postback.get("title")) or ""
    payload = _str(postback.get("payload")) or ""
    if not title and not payload:
        return Unparseable("postback_without_content")
    return Postback(origin, _str(postback.get("mid")), title, payload)


def _attachment(raw: Any) -> Attachment | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return None
    payload = _dict(raw.get("payload"))
    sticker = payload.get("sticker_id")
    return Attachment(raw["type"], _str(payload.get("url")), str(sticker) if isinstance(sticker, (str, int)) else None)


def _origin(item: Mapping[str, Any], standby: bool) -> Origin | None:
    sender = _str(_dict(item.get("sender")).get("id"))
    if not sender:
        return None
    recipient = _str(_dict(item.get("recipient")).get("id")) or ""
    return Origin(sender, recipient, _int(item.get("timestamp")), standby)


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
