"""Which reading a content type gets (docs/reference/message-processor.md#scope).

text/plain                                              plain.project
text/markdown                                           markdown.project
application/json, ...message.interactive[.response]    json_values.project
no content type                                         plain.Unparsed: analysed, never rendered
anything else                                           None: approved unchanged, and counted
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.processor import json_values, markdown, plain
from chalicelib.processor.projection import Projection

INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
INTERACTIVE_RESPONSE = "application/vnd.amazonaws.connect.message.interactive.response"

READERS: dict[str, Callable[[str], Projection]] = {
    "text/plain": plain.project,
    "text/markdown": markdown.project,
    "application/json": json_values.project,
    INTERACTIVE: json_values.project,
    INTERACTIVE_RESPONSE: json_values.project,
}


def reader(content_type: str | None) -> Callable[[str], Projection] | None:
    if content_type is None:
        return plain.Unparsed
    return READERS.get(content_type)
