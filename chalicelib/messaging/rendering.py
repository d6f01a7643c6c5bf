"""What Connect sends, made readable on Messenger: flat text, quick replies, and sends under the size limit.

Messenger shows no markdown and has no list pickers, so:
- `text/markdown` is flattened to plain text that reads well (links keep their address);
- an interactive template (list picker, quick reply, panel, time picker) becomes Messenger quick replies
  when every choice fits (at most 13, titles at most 20 characters), else a numbered list the customer
  can answer by typing (`choices` lets the inbound path map a typed number back to its option); a
  carousel becomes a generic template (generic_template.py); titles and subtitles written in rich text
  (markdown, rehype comments) are flattened; a template we cannot read yields nothing, never raw JSON;
- text longer than Messenger's limit is split on paragraph, sentence or word boundaries.

Pure functions: no I/O, no settings, cheap enough to run on every stream record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from chalicelib.messaging import generic_template
from chalicelib.messaging.text_units import utf16_prefix, utf16_units

# Messenger accepts text "< 2000 characters" without saying whether it counts code points or UTF-16 units.
# We count UTF-16 units (never fewer than code points) and keep a margin: 1900.
MAX_TEXT_UNITS = 1900
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000


@dataclass(frozen=True)
class QuickReply:
    title: str
    payload: str


@dataclass(frozen=True)
class Rendered:
    """Text to send, with quick replies for the last part (empty when the choices did not fit).
    `choices`: the options of a numbered list, in order (a typed "2" means the second);
    `template`: a structured attachment (generic template) sent after the text."""

    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    choices: tuple[str, ...] = ()
    template: dict[str, Any] | None = None


# ------------------------------------------------------------------------------------------------ markdown

# Every pattern runs on agent-sized input (16 KiB), so none may rescan: a repeated part never crosses its
# own closing delimiter (an opener without a closer then costs the distance to the next delimiter, not the
# rest of the text), and line rules work on one line. Unclosed `**`, `[a](b` or `<http://` used to cost
# O(n^2): 1-4 s at 16 KB (issue 17). tests/adversarial/test_markdown_cost.py keeps it that way.
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[^\n]*$", re.MULTILINE)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+([^\n]*)$", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)
_LINK_LABEL = r"\[([^\[\]]*)\]"
_LINK_TARGET = r"\([ \t]*([^\s()<>]+)(?:[ \t]+\"[^\"\n]*\")?[ \t]*\)"
_IMAGE = re.compile(r"!" + _LINK_LABEL + _LINK_TARGET)
_LINK = re.compile(_LINK_LABEL.replace("*", "+") + _LINK_TARGET)
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^<>\s]+)>")
_STRONG = re.compile(r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*|__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])|(?<![\w*])_(?=\S)([^_]+?)(?<=\S)_(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)((?:[^~]|~(?!~))+?)(?<=\S)~~")
_CODE = re.compile(r"`([^`]+)`")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Escaped punctuation is parked on private-use code points while the inline rules run, then restored.
_PARK_BASE = 0xF0000


def markdown_to_text(markdown: str) -> str:
    """Readable plain text from Connect's markdown subset (emphasis, lists, links, headings, code)."""
    text = _ESCAPE.sub(lambda m: chr(_PARK_BASE + ord(m.group(1))), markdown.replace("\r\n", "\n"))
    text = _FENCE.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub(lambda m: _heading_text(m.group(1)), text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub(r"\1• ", text)
    text = _IMAGE.sub(lambda m: _link_text(m.group(1) or "image", m.group(2)), text)
    text = _LINK.sub(lambda m: _link_text(m.group(1), m.group(2)), text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _STRONG.sub(_either_group, text)
    text = _STRIKE.sub(r"\1", text)
    text = _EMPHASIS.sub(_either_group, text)
    text = _unpark(text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def _heading_text(rest: str) -> str:
    """A heading's text without its optional closing `#`s (string operations: no backtracking)."""
    text = rest.rstrip(" \t")
    closed = text.rstrip("#")
    if closed != text and (closed == "" or closed[-1] in " \t"):
        text = closed.rstrip(" \t")
    return text


def _either_group(match: re.Match[str]) -> str:
    return match.group(1) if match.group(1) is not None else match.group(2)


def _unpark(text: str) -> str:
    return "".join(chr(ord(c) - _PARK_BASE) if _PARK_BASE <= ord(c) < _PARK_BASE + 128 else c for c in text)


def _link_text(label: str, url: str) -> str:
    label = label.strip()
    return url if not label or label == url else f"{label} ({url})"


# ------------------------------------------------------------------------------------------------ interactive


def render_interactive(content: str | None) -> Rendered | None:
    """A Connect interactive template as Messenger text + quick replies, or None when it cannot be read."""
    try:
        template = json.loads(content or "")
    except ValueError:
        return None
    if not isinstance(template, dict):
        return None
    kind = str(template.get("templateType") or "")
    data = template.get("data")
    if not isinstance(data, dict):
        return None
    content = data.get("content")
    body: dict[str, Any] = content if isinstance(content, dict) else data
    if kind == "TimePicker":
        choices = [(_timeslot_label(slot, body.get("timeZoneOffset")), "") for slot in _dicts(body.get("timeslots"))]
    elif kind == "Carousel":
        carousel = generic_template.carousel(_dicts(body.get("elements")), _clean)
        if carousel is not None:
            heading = _clean(body.get("title"))
            overflow = "\n".join(f"• {choice}" for choice in carousel.overflow)
            text = "\n".join(part for part in (heading, overflow) if part) or "Please choose:"
            return Rendered(text=text, template=carousel.attachment())
        choices = [choice for panel in _dicts(body.get("elements")) for choice in _carousel_choices(panel)]
    elif kind not in _CHOICE_TEMPLATES:
        return None  # ViewResource, forms, payments...: the caller tells the agent it was not shown
    else:  # ListPicker, QuickReply, Panel, and the channel-specific list/button templates share this shape
        choices = [_element_choice(element) for element in _dicts(body.get("elements"))]
    choices = [(title, detail) for title, detail in choices if title]
    heading = "\n".join(part for part in (_clean(body.get("title")), _clean(body.get("subtitle"))) if part)
    if not heading and not choices:
        return None
    return _choices_message(heading, choices)


def template_kind(content: str | None) -> str:
    """The `templateType` of an interactive message, for notes and logs ("" when there is none)."""
    try:
        template = json.loads(content or "")
    except ValueError:
        return ""
    kind = template.get("templateType") if isinstance(template, dict) else None
    return kind if isinstance(kind, str) and kind.isalnum() and len(kind) <= 40 else ""


def _choices_message(heading: str, choices: list[tuple[str, str]]) -> Rendered:
    """Quick replies carry the bare titles (what the customer's tap sends back); details go in the text."""
    titles = [title for title, _ in choices]
    fits = 0 < len(titles) <= MAX_QUICK_REPLIES and all(len(t) <= MAX_QUICK_REPLY_TITLE for t in titles)
    if fits:
        details = "\n".join(f"• {title} — {detail}" for title, detail in choices if detail)
        text = "\n".join(part for part in (heading, details) if part) or "Please choose:"
        replies = tuple(QuickReply(title=t, payload=t[:MAX_QUICK_REPLY_PAYLOAD]) for t in titles)
        return Rendered(text=text, quick_replies=replies)
    if not choices:
        return Rendered(text=heading)
    numbered = "\n".join(f"{i}. {t} — {d}" if d else f"{i}. {t}" for i, (t, d) in enumerate(choices, 1))
    return Rendered(text=f"{heading}\n{numbered}\nReply with your choice.".strip(), choices=tuple(titles))


# Templates made of a title and choices, as Messenger can show them; anything else is not sent.
_CHOICE_TEMPLATES = frozenset(
    {
        "ListPicker",
        "QuickReply",
        "Panel",
        "TimePicker",
        "Carousel",
        "WhatsAppList",
        "WhatsAppInteractiveReplyButton",
        "",
    }
)


def _element_choice(element: dict) -> tuple[str, str]:
    return _clean(element.get("title")), _clean(element.get("subtitle"))


def _carousel_choices(panel: dict) -> list[tuple[str, str]]:
    data = panel.get("data")
    content = data.get("content") if isinstance(data, dict) else None
    inner: dict[str, Any] = content if isinstance(content, dict) else panel
    return [_element_choice(e) for e in _dicts(inner.get("elements"))] or [(_clean(inner.get("title")), "")]


def _timeslot_label(slot: dict, offset_minutes: Any) -> str:
    try:
        start = datetime.fromisoformat(str(slot.get("date")).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if (
        isinstance(offset_minutes, (int, float))
        and not isinstance(offset_minutes, bool)
        and abs(offset_minutes) <= 24 * 60
    ):
        start = start.astimezone(timezone(timedelta(minutes=offset_minutes)))
    label = start.strftime("%a %d %b %H:%M")
    duration = slot.get("duration")
    if isinstance(duration, int) and not isinstance(duration, bool) and duration > 0:
        label += f" ({duration} min)"
    return label


def _dicts(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _without_comments(value: str) -> str:
    """`value` without its `<!-- ... -->` (rehype) comments, in one left-to-right pass: a lazy `<!--.*?-->`
    pattern rescans to the end of the text for every unclosed `<!--`, which is quadratic on hostile input."""
    kept: list[str] = []
    position = 0
    while (start := value.find("<!--", position)) != -1:
        end = value.find("-->", start + 4)
        if end == -1:
            break  # unclosed: the rest is kept as text, as a renderer would show it
        kept.append(value[position:start])
        position = end + 3
    kept.append(value[position:])
    return "".join(kept)


def _clean(value: Any) -> str:
    """One line of plain text from a template field, which may be rich text (markdown + rehype comments)."""
    if not isinstance(value, str):
        return ""
    return " ".join(markdown_to_text(_without_comments(value)).split())


# ------------------------------------------------------------------------------------------------ splitting


def split_for_messenger(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Ordered parts of at most `limit` UTF-16 units, cut at the latest paragraph, line, sentence or word end."""
    text = text.strip()
    return list(_parts(text, limit)) if text else []


# Instagram counts UTF-8 bytes (at most 1000 per text). A UTF-16 unit is at most 3 UTF-8 bytes, so parts
# of 330 units always fit; text that fits in bytes already is sent whole.
INSTAGRAM_MAX_TEXT_BYTES = 1000
_INSTAGRAM_SAFE_UNITS = INSTAGRAM_MAX_TEXT_BYTES // 3 - 3


def split_for_channel(text: str, channel: str) -> list[str]:
    """Parts the customer's channel accepts (docs/reference/messenger-webhook.md, Instagram limits)."""
    if channel != "instagram":
        return split_for_messenger(text)
    parts = []
    for part in split_for_messenger(text):
        fits = len(part.encode("utf-8")) <= INSTAGRAM_MAX_TEXT_BYTES
        parts.extend([part] if fits else split_for_messenger(part, _INSTAGRAM_SAFE_UNITS))
    return parts


_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?…。！？])\s+"), re.compile(r"\s+"))


def _parts(text: str, limit: int) -> Iterator[str]:
    while utf16_units(text) > limit:
        window = utf16_prefix(text, limit)
        cut = _last_boundary(window)
        head, text = (window[: cut[0]], text[cut[1] :]) if cut else (window, text[len(window) :])
        head, text = head.rstrip(), text.lstrip()
        if head:
            yield head
    if text:
        yield text


def _last_boundary(window: str) -> tuple[int, int] | None:
    """(end of head, start of rest) at the best boundary in the window's second half, if any."""
    floor = len(window) // 2
    for pattern in _BOUNDARIES:
        last = None
        for match in pattern.finditer(window, floor):
            last = match
        if last is not None and last.start() > 0:
            return last.start(), last.end()
    return None
