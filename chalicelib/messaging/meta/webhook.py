"""The Meta webhook's contract (docs/reference/messenger-webhook.md): verification, signature, and typed events,
for both Meta channels this bridge serves: Messenger (`"object": "page"`) and Instagram Direct
(`"object": "instagram"`). Every event carries its channel and the Page / Instagram account it was sent to.

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
from dataclasses import dataclass, replace
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


MESSENGER = "messenger"
INSTAGRAM = "instagram"
# The webhook `object` of each Meta channel this bridge serves.
CHANNELS = {"page": MESSENGER, "instagram": INSTAGRAM}
USER_REF_PREFIX = "user_ref:"  # checkbox / chat-plugin senders have a user_ref, not a PSID


@dataclass(frozen=True)
class Origin:
    """Who sent an item, to whom, when, on which channel. For echoes the sender is the Page.

    `sender_id` is the PSID / IGSID, or `user_ref:<ref>` for a checkbox or chat-plugin guest.
    `account_id` is the Page or Instagram account the customer wrote to (`recipient.id`, else `entry.id`)."""

    sender_id: str
    recipient_id: str
    timestamp_ms: int
    standby: bool = False  # another app owns the thread (handover protocol): do not act on it
    channel: str = MESSENGER
    entry_id: str = ""

    @property
    def account_id(self) -> str:
        return self.recipient_id or self.entry_id


@dataclass(frozen=True)
class Text:
    origin: Origin
    mid: str
    text: str
    reply_to_mid: str | None = None
    story_url: str | None = None  # Instagram story reply: the story the customer answered
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
    title: str | None = None  # links, posts, reels: what the customer shared
    latitude: float | None = None  # legacy `location` attachments
    longitude: float | None = None


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


@dataclass(frozen=True)
class Edit:
    """`message_edits`: the customer corrected a message they sent (Messenger only)."""

    origin: Origin
    mid: str
    text: str
    num_edit: int
    kind = "edit"


@dataclass(frozen=True)
class Unsupported:
    """Content Meta will not show us (`is_unsupported`, disappearing media, a share without payload):
    the agent is told, since the customer did send something."""

    origin: Origin
    mid: str
    what: str  # unsupported | ephemeral
    kind = "unsupported"


CustomerMessage = Text | QuickReplyTap | Postback | Attachments | Edit | Unsupported
Event = (
    Text
    | QuickReplyTap
    | Postback
    | Attachments
    | Edit
    | Unsupported
    | Echo
    | DeliveryReceipt
    | Read
    | Reaction
    | Other
    | Unparseable
)

_OTHER_KINDS = (
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
# `entry[].changes[]` fields that carry a messaging item as their value (the App Dashboard's test events).
_MESSAGING_FIELDS = frozenset(
    {
        "messages",
        "messaging_postbacks",
        "message_edits",
        "message_reactions",
        "message_reads",
        "messaging_seen",
        "message_deliveries",
        "message_echoes",
        "messaging_referrals",
        "messaging_referral",
        "messaging_optins",
        "messaging_handovers",
        "standby",
    }
)


def message_key(event: CustomerMessage) -> str:
    """Meta's message id; an edit by its number; items without a mid by sender, timestamp, kind and what
    was tapped, so two different postbacks in the same second stay two (docs/reference/messenger-webhook.md)."""
    if isinstance(event, Edit):
        return f"{event.mid}#edit{event.num_edit}"
    if event.mid:
        return event.mid
    origin = event.origin
    key = f"{origin.sender_id}:{origin.timestamp_ms}:{event.kind}"
    if isinstance(event, Postback):
        tapped = hashlib.sha256(f"{event.title}\x00{event.payload}".encode()).hexdigest()[:16]
        key += f":{tapped}"
    return key


# --------------------------------------------------------------------------------------------- parsing


def parse_payload(raw_body: bytes) -> tuple[Event, ...]:
    """Every item of a Messenger or Instagram webhook body, in order. Raises `PayloadError` for a body
    that is not JSON or not a Meta messaging webhook; a known object without entries is simply empty
    (a signed body from Meta is answered 200, never retried for hours)."""
    try:
        document = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PayloadError("not_json") from None
    if not isinstance(document, dict):
        raise PayloadError("not_an_object")
    channel = CHANNELS.get(document.get("object"))  # type: ignore[arg-type]
    if channel is None:
        raise PayloadError("not_a_messaging_webhook")
    entries = document.get("entry")
    if not isinstance(entries, list):
        return ()
    events: list[Event] = []
    for entry in entries:
        if not isinstance(entry, dict):
            events.append(Unparseable("entry_not_an_object"))
            continue
        entry_id = _id(entry.get("id")) or ""
        for key, standby in (("messaging", False), ("standby", True)):
            items = entry.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                events.append(Unparseable(f"{key}_not_a_list"))
                continue
            events.extend(parse_item(item, standby, channel, entry_id) for item in items)
        changes = entry.get("changes")
        if isinstance(changes, list):
            for change in changes:
                field_name = _dict(change).get("field")
                if field_name in _MESSAGING_FIELDS:
                    events.append(parse_item(_dict(change).get("value"), field_name == "standby", channel, entry_id))
    return tuple(events)


# DynamoDB allows 2,048 bytes in a partition key; ids go into one with a short prefix. Real PSIDs and mids
# are under 200 bytes.
MAX_ID_BYTES = 1024


def parse_item(item: Any, standby: bool = False, channel: str = MESSENGER, entry_id: str = "") -> Event:
    """One `messaging[]` item as a typed event; never raises."""
    if not isinstance(item, dict):
        return Unparseable("item_not_an_object")
    origin = _origin(item, standby, channel, entry_id)
    if origin is None:
        return Unparseable("item_without_sender")
    if not storable(origin.sender_id):
        return Unparseable("id_not_storable")
    message = item.get("message")
    if message is not None:
        event = _message(origin, message)
    elif "postback" in item:
        event = _postback(origin, item["postback"])
    elif "message_edit" in item:
        event = _edit(origin, item["message_edit"])
    else:
        return _other(item, origin)
    if not storable(getattr(event, "mid", None)):
        return Unparseable("id_not_storable")
    return event


def storable(value: str | None) -> bool:
    """An id that can become part of a DynamoDB key (store/): valid UTF-8 (JSON allows a lone surrogate such
    as `\\ud800`, which no encoder accepts) and at most `MAX_ID_BYTES`. Before issue 17 such an id made the
    whole batch answer 500, and Meta retried it forever; now the item alone is refused with a reason code."""
    if value is None:
        return True
    try:
        return len(value.encode("utf-8")) <= MAX_ID_BYTES
    except UnicodeEncodeError:
        return False


def _other(item: Mapping[str, Any], origin: Origin) -> Event:
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
    if message.get("is_deleted") is True:
        return Other(origin, "message_deleted")
    if message.get("is_unsupported") is True:
        return Unsupported(origin, mid, "unsupported")
    text = _str(message.get("text"))
    attachments = message.get("attachments")
    if isinstance(attachments, list) and attachments:
        parsed = _distinct(tuple(a for a in (_attachment(raw) for raw in attachments) if a is not None))
        if not parsed:
            return Unparseable("attachments_malformed")
        if not text and all(a.type == "ephemeral" for a in parsed):
            return Unsupported(origin, mid, "ephemeral")
        return Attachments(origin, mid, parsed, text or None)
    if text is None or text == "":
        return Unparseable("message_without_content")
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict):
        return QuickReplyTap(origin, mid, text, _str(quick_reply.get("payload")) or "")
    reply_to = _dict(message.get("reply_to"))
    return Text(origin, mid, text, _str(reply_to.get("mid")), _str(_dict(reply_to.get("story")).get("url")))


def _edit(origin: Origin, edit: Any) -> Event:
    edit = _dict(edit)
    mid, text = _str(edit.get("mid")), _str(edit.get("text"))
    if not mid or not text:
        return Unparseable("edit_without_content")
    return Edit(origin, mid, text, _int(edit.get("num_edit")) or origin.timestamp_ms)


def _distinct(attachments: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
    """One attachment per thing the customer sent: Meta sends a sticker as both `sticker` and `image`
    (2026 transition) and an Instagram post as both `share` and `ig_post`, with the same sticker id or URL."""
    kept: dict[tuple[str, str], Attachment] = {}
    preference = {"sticker": 0, "ig_post": 0, "share": 1, "image": 2}
    for attachment in attachments:
        if attachment.sticker_id:
            identity = ("sticker", attachment.sticker_id)
        elif attachment.type in ("share", "ig_post") and attachment.url:
            identity = ("post", attachment.url)
        else:
            identity = ("item", str(len(kept)))
        current = kept.get(identity)
        if current is None or preference.get(attachment.type, 3) < preference.get(current.type, 3):
            kept[identity] = (
                attachment if current is None else replace(attachment, title=attachment.title or current.title)
            )
    return tuple(kept.values())


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
    coordinates = _dict(payload.get("coordinates"))
    # Older link shares put `title` and `URL` next to a null payload.
    url = _str(payload.get("url")) or _str(raw.get("URL")) or _str(raw.get("url"))
    title = _str(payload.get("title")) or _str(raw.get("title"))
    return Attachment(
        raw["type"],
        url,
        str(sticker) if isinstance(sticker, (str, int)) else None,
        title,
        _float(coordinates.get("lat")),
        _float(coordinates.get("long")),
    )


def _origin(item: Mapping[str, Any], standby: bool, channel: str = MESSENGER, entry_id: str = "") -> Origin | None:
    sender_doc = _dict(item.get("sender"))
    sender = _id(sender_doc.get("id"))
    if not sender:
        user_ref = _id(sender_doc.get("user_ref"))
        sender = USER_REF_PREFIX + user_ref if user_ref else None
    if not sender:
        return None
    recipient = _id(_dict(item.get("recipient")).get("id")) or ""
    return Origin(sender, recipient, _timestamp(item.get("timestamp")), standby, channel, entry_id)


def _timestamp(value: Any) -> int:
    """Epoch ms as Meta documents it; the postback reference sends a string (of seconds): kept as a number."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return _int(value)


def _id(value: Any) -> str | None:
    """Ids are strings, but some senders write them as numbers."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
