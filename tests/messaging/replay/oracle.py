"""What the agent must see for each item of a replayed webhook body, written from Meta's documentation of
each event, independently of the code under test ("nothing lost without the agent being told").

An `Expectation` is per messaging item: substrings the customer's side of the chat must show, how many
agent-visible items it must produce at least, and at most (a sticker sent as a `sticker` + `image` pair is
ONE thing the customer did).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.messaging.replay.corpus import UNSERVED_PAGE, WebhookCase

# Attachment kinds that are a link or a post rather than a file: the agent must see the URL (and title).
LINK_KINDS = frozenset({"fallback", "share", "post", "ig_post", "reel", "ig_reel", "story_mention"})


@dataclass(frozen=True)
class Expectation:
    sender: str | None
    must_show: tuple[str, ...] = ()
    at_least: int = 0
    at_most: int = 0
    why: str = ""


def expectations(case: WebhookCase) -> list[Expectation]:
    return [expect(key, item) for key, item in case.items()]


def expect(key: str, item: Any) -> Expectation:
    if not isinstance(item, dict):
        return Expectation(None, why="not an item")
    sender_doc = item["sender"] if isinstance(item.get("sender"), dict) else {}
    sender = sender_doc.get("id") or sender_doc.get("user_ref")
    sender = sender if isinstance(sender, str) else None
    recipient = (item.get("recipient") or {}).get("id") if isinstance(item.get("recipient"), dict) else None
    if sender is None:
        return Expectation(None, why="no sender")
    if key == "standby":
        return Expectation(sender, why="another app owns the thread")
    if recipient == UNSERVED_PAGE:
        return Expectation(sender, why="a Page we do not serve")
    if isinstance(item.get("message"), dict):
        return _message(sender, item["message"])
    if isinstance(item.get("postback"), dict):
        title = item["postback"].get("title")
        if isinstance(title, str) and title:
            return Expectation(sender, (title,), 1, 1, "postback title")
        return Expectation(sender, (), 1, 1, "postback without title: the agent is told a button was tapped")
    if isinstance(item.get("message_edit"), dict) and isinstance(item["message_edit"].get("text"), str):
        return Expectation(sender, (item["message_edit"]["text"],), 1, 1, "edited text")
    return Expectation(sender, why="not customer content (read, delivery, reaction, referral, optin, handover...)")


def _message(sender: str, message: dict[str, Any]) -> Expectation:
    if message.get("is_echo"):
        return Expectation(sender, why="echo of the Page's own message")
    if not isinstance(message.get("mid"), str):
        return Expectation(sender, why="message without mid")
    if message.get("is_deleted"):
        return Expectation(sender, at_most=1, why="unsent: a note is allowed, not required")
    if message.get("is_unsupported"):
        return Expectation(sender, (), 1, 1, "unsupported content: the agent is told")
    must: list[str] = []
    text = message.get("text")
    if isinstance(text, str) and text:
        must.append(text)
    story = (message.get("reply_to") or {}).get("story") if isinstance(message.get("reply_to"), dict) else None
    if isinstance(story, dict) and isinstance(story.get("url"), str):
        must.append(story["url"])
    groups: set[str] = set()
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        payload = attachment["payload"] if isinstance(attachment.get("payload"), dict) else {}
        kind = attachment.get("type")
        url = payload.get("url") or attachment.get("URL") or attachment.get("url")
        title = payload.get("title") or attachment.get("title")
        sticker = payload.get("sticker_id")
        groups.add(
            f"sticker:{sticker}"
            if sticker
            else f"link:{url}:{title}"
            if kind in LINK_KINDS and url
            else f"{kind}:{url}:{len(groups)}"
        )
        if kind in LINK_KINDS:
            must.extend(v for v in (url, title) if isinstance(v, str) and v)
    if not groups and not must:
        return Expectation(sender, why="message without content")
    at_most = len(groups) + (1 if isinstance(text, str) and text else 0) + (1 if isinstance(story, dict) else 0)
    return Expectation(sender, tuple(must), max(1, len(groups)), at_most, "customer content")
