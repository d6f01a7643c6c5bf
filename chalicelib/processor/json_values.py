"""application/json and interactive messages: PII masked inside string values only, same keys, same shape.

The redactor reads every key, string value and number of the document, one per paragraph (so context words
in a key or a title count for the value beside them, as they would in one chat message). Masks are written
into string values only: each changed value is re-encoded and spliced into the original text, so
everything else (key order, spacing, escapes, number spellings) stays byte for byte. A detection in a key or
a number cannot be masked without renaming a key or changing a type: `render` answers None and the
caller rejects the message. Content that is not strict JSON (NaN, trailing commas, too deep) is `Unparsed`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.processor.plain import Unparsed
from chalicelib.processor.projection import cut, mask_text
from chalicelib.redaction.detectors import Detection

# In valid JSON, scanning left to right, a quote always opens a string and a digit or minus a number.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')
_SPACE = " \t\r\n"
VALUE, KEY, NUMBER = 0, 1, 2
# Between values: a paragraph break. A number never runs on across it, and detection stays linear when a list
# holds many numbers (a single line break lets the redactor read them as one long digit run: quadratic).
SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class _Segment:
    kind: int
    source_start: int  # the token in the JSON text (quotes included)
    source_end: int
    start: int  # the decoded text in the projection
    end: int
    decoded: str


@dataclass(frozen=True, slots=True)
class JsonText:
    source: str
    text: str
    separators: bytearray
    segments: tuple[_Segment, ...]
    exact: bool = True

    def render(self, spans: Sequence[Detection], template: str) -> str | None:
        pieces = cut(self.text, spans, self.separators)
        if not pieces:
            return self.source
        out: list[str] = []
        cursor = 0
        index = 0
        segments = self.segments
        for segment in segments:
            mine = []
            while index < len(pieces) and pieces[index].start < segment.end:
                mine.append(pieces[index])
                index += 1
            if not mine:
                continue
            if segment.kind != VALUE:
                return None  # a key cannot be renamed nor a number turned into a string
            value = segment.decoded
            rebuilt = []
            at = 0
            for piece in mine:
                rebuilt.append(value[at : piece.start - segment.start])
                rebuilt.append(mask_text(template, piece.entity_type))
                at = piece.end - segment.start
            rebuilt.append(value[at:])
            out.append(self.source[cursor : segment.source_start])
            out.append(_encode("".join(rebuilt)))
            cursor = segment.source_end
        out.append(self.source[cursor:])
        return "".join(out)


def project(content: str) -> JsonText | Unparsed:
    try:
        json.loads(content, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return Unparsed(content)
    segments: list[_Segment] = []
    parts: list[str] = []
    at = 0
    for token in _TOKEN.finditer(content):
        raw = token.group()
        if raw[0] == '"':
            decoded = json.loads(raw)
            kind = KEY if _followed_by_colon(content, token.end()) else VALUE
        else:
            decoded, kind = raw, NUMBER
        segments.append(_Segment(kind, token.start(), token.end(), at, at + len(decoded), decoded))
        parts.append(decoded)
        at += len(decoded) + len(SEPARATOR)
    text = SEPARATOR.join(parts)
    separators = bytearray(len(text))
    for segment in segments[:-1]:
        separators[segment.end : segment.end + len(SEPARATOR)] = b"\x01" * len(SEPARATOR)
    return JsonText(content, text, separators, tuple(segments))


def _followed_by_colon(content: str, end: int) -> bool:
    i = end
    while i < len(content) and content[i] in _SPACE:
        i += 1
    return i < len(content) and content[i] == ":"


def _encode(value: str) -> str:
    encoded = json.dumps(value, ensure_ascii=False)
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \\ud800 escape: keep it escaped
        return json.dumps(value)
    return encoded


def _refuse(name: str) -> float:
    raise ValueError("not strict JSON")  # NaN, Infinity: Python accepts them, JSON does not
