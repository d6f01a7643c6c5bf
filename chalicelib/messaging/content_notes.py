"""What the agent reads for customer content that is not plain text (Messenger and Instagram alike).

Every customer action becomes words the agent can act on: a shared link keeps its URL and title, a story
mention its link, a location what `MESSENGER_LOCATION_PRECISION` allows, and anything the channel will
not show us becomes a note saying so. These texts go through the redactor like the customer's own words.
Pure functions, no I/O.
"""

from __future__ import annotations

LOCATION_PRECISIONS = ("none", "area", "exact")

STICKER = "[customer sent a sticker]"
UNSUPPORTED = "[customer sent something {channel} does not let us show]"
EPHEMERAL = "[customer sent disappearing media, which cannot be shown here]"
BUTTON = "[customer tapped a button]"

_LINK_NOUNS = {
    "fallback": "a link",
    "share": "a post",
    "post": "a post",
    "ig_post": "a post",
    "reel": "a reel",
    "ig_reel": "a reel",
    "template": "a card",
    "appointment_booking": "an appointment",
}


def channel_name(channel: str) -> str:
    return {"instagram": "Instagram", "messenger": "Messenger"}.get(channel, channel.title())


def link(kind: str, url: str | None, title: str | None) -> str:
    """`[customer shared a link: Title https://…]`; without a payload, the unsupported-share note."""
    parts = " ".join(part for part in (_one_line(title), url) if part)
    noun = _LINK_NOUNS.get(kind, "a link")
    return f"[customer shared {noun}: {parts}]" if parts else f"[customer shared {noun} we cannot show]"


def story_mention(url: str | None) -> str:
    return f"[customer mentioned you in their story: {url}]" if url else "[customer mentioned you in their story]"


def story_reply(url: str | None) -> str:
    return f"[replying to your story: {url}]" if url else "[replying to your story]"


def edited(text: str) -> str:
    return f"[customer edited a message] {text}"


def unsupported(channel: str) -> str:
    return UNSUPPORTED.format(channel=channel_name(channel))


def location(latitude: float | None, longitude: float | None, precision: str) -> str:
    """The agent is always told a location was shared; coordinates only as the deployment allows."""
    if precision == "none" or latitude is None or longitude is None:
        return "[customer shared a location]"
    digits = 2 if precision == "area" else 6
    return f"[customer shared a location: {latitude:.{digits}f}, {longitude:.{digits}f}]"


def _one_line(value: str | None) -> str:
    return " ".join(value.split()) if value else ""
