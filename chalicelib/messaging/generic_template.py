"""A Connect carousel as Messenger's generic template (docs/reference/graph-send-api.md#templates).

Each panel of the carousel (a list picker) becomes one element: title and subtitle (80 characters each),
its image, and up to 3 buttons: a postback per choice (title 20 characters; the tap comes back as a
postback whose title the agent sees) and a web_url button for a hyperlink choice. Choices that do not fit
a button go in `overflow`, which the caller sends as text: nothing the bot offered is dropped.
At most 10 elements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_ELEMENTS = 10
MAX_TITLE = 80
MAX_SUBTITLE = 80
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_PAYLOAD = 1000


@dataclass(frozen=True)
class GenericTemplate:
    elements: tuple[dict[str, Any], ...]
    overflow: tuple[str, ...] = ()  # choices with no button, to be offered as text

    def attachment(self) -> dict[str, Any]:
        return {"type": "template", "payload": {"template_type": "generic", "elements": list(self.elements)}}


def carousel(panels: list[dict[str, Any]], clean: Callable[[Any], str]) -> GenericTemplate | None:
    elements: list[dict[str, Any]] = []
    overflow: list[str] = []
    for panel in panels:
        body = _content(panel)
        title = _cut(clean(body.get("title")), MAX_TITLE)
        choices = [e for e in body.get("elements") or [] if isinstance(e, dict)]
        if not title:
            title = _cut(clean(choices[0].get("title")) if choices else "", MAX_TITLE)
        if not title:
            continue
        element: dict[str, Any] = {"title": title}
        subtitle = _cut(clean(body.get("subtitle")), MAX_SUBTITLE)
        if subtitle:
            element["subtitle"] = subtitle
        image = body.get("imageData")
        if body.get("imageType", "URL") == "URL" and isinstance(image, str) and image.startswith("https://"):
            element["image_url"] = image
        buttons: list[dict[str, Any]] = []
        for choice in choices:
            label = clean(choice.get("title"))
            url = choice.get("url")
            if not label:
                continue
            if len(buttons) < MAX_BUTTONS and len(label) <= MAX_BUTTON_TITLE:
                if isinstance(url, str) and url.startswith(("https://", "http://")):
                    buttons.append({"type": "web_url", "title": label, "url": url})
                else:
                    buttons.append({"type": "postback", "title": label, "payload": label[:MAX_PAYLOAD]})
            else:
                overflow.append(f"{label} ({url})" if isinstance(url, str) and url else label)
        if buttons:
            element["buttons"] = buttons
        elements.append(element)
    if not elements:
        return None
    for extra in elements[MAX_ELEMENTS:]:
        overflow.extend(button["title"] for button in extra.get("buttons", []))
    return GenericTemplate(tuple(elements[:MAX_ELEMENTS]), tuple(overflow))


def _content(panel: dict[str, Any]) -> dict[str, Any]:
    data = panel.get("data")
    if isinstance(data, dict) and isinstance(data.get("content"), dict):
        return data["content"]
    return panel


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
