"""text/markdown: redacted without breaking the markdown.

The redactor reads the text with every syntax character (emphasis and strike markers, link and image
brackets, the parentheses around a link's destination, backslashes of escapes, backtick fences, heading,
quote and list markers at line starts) replaced by a space: same length, so detections map back one to one.
A detection is cut around syntax characters (projection.cut), so a mask never swallows `**`, `](` or `)`.
Masks are written escaped (`\\[CREDIT\\_DEBIT\\_NUMBER\\]`) so they render as the same text and never open
a link or emphasis of their own; inside a code span, where escapes do not apply, they are written plainly.

Connect chat renders a small CommonMark subset (bold, italics, lists, links); this reads that subset and
leaves everything else as text, which is only ever masked more, never less.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.processor.projection import cut, mask_text
from chalicelib.redaction.detectors import Detection

_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# At a line start (after quote markers and indentation): heading, bullet or a short ordered-list number.
# Two digits at most: "4111. 1111 ..." is a card typed with a dot, not item 4111 of a list.
_BLOCK_MARKER = re.compile(r"(?:#{1,6}|[-+*]|\d{1,2}[.)])(?=[ \t\n]|\Z)")
_NEWLINE = re.compile(r"\n")
_BACKTICKS = re.compile(r"`+")
_PAREN_EVENTS = re.compile(r"\\[^\n]|[\n()]")
_INTERESTING = re.compile(r"[\n\\`*~\[\]_!<]")
_AUTOLINK = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>")


@dataclass(frozen=True, slots=True)
class MarkdownText:
    source: str
    text: str
    blocked: bytearray  # 1 where the source has a syntax character or a line break
    code: bytearray  # 1 inside a code span's content
    exact: bool = True

    def render(self, spans: Sequence[Detection], template: str) -> str | None:
        pieces = cut(self.text, spans, self.blocked)
        out: list[str] = []
        cursor = 0
        for piece in pieces:
            out.append(self.source[cursor : piece.start])
            mask = mask_text(template, piece.entity_type)
            out.append(mask.replace("`", "'") if self.code[piece.start] else escape(mask))
            cursor = piece.end
        out.append(self.source[cursor:])
        return "".join(out)


def escape(text: str) -> str:
    """Markdown that renders as `text`: every ASCII punctuation character backslash-escaped."""
    return "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in text)


def project(source: str) -> MarkdownText:
    syntax = _Syntax(source)
    marks = syntax.marks
    text = "".join(" " if mark else ch for ch, mark in zip(source, marks)) if any(marks) else source
    # Line breaks are read as they are (a number never runs on across one) and never masked: they are structure.
    blocked = marks
    for newline in _NEWLINE.finditer(source):
        blocked[newline.start()] = 1
    return MarkdownText(source, text, blocked, syntax.code)


class _Syntax:
    """One left-to-right pass over the source marking syntax characters and code span contents."""

    def __init__(self, source: str):
        self.source = source
        self.marks = bytearray(len(source))
        self.code = bytearray(len(source))
        self._parens: dict[int, int] | None = None
        self._runs: dict[int, list[int]] | None = None
        self._scan()

    def _mark(self, start: int, end: int) -> None:
        self.marks[start:end] = b"\x01" * (end - start)

    def _scan(self) -> None:
        s = self.source
        n = len(s)
        i = self._line_start(0)
        while i < n:
            found = _INTERESTING.search(s, i)  # plain runs are skipped by the regex engine, not char by char
            if found is None:
                return
            i = found.start()
            ch = s[i]
            if ch == "\n":
                i = self._line_start(i + 1)
                continue
            if ch == "\\" and i + 1 < n and s[i + 1] in _PUNCTUATION:
                self._mark(i, i + 1)  # the escaped character is text
                i += 2
                continue
            if ch == "`":
                i = self._code_span(i)
                continue
            if ch in "*~[]":
                self._mark(i, i + 1)
                if ch == "]" and i + 1 < n and s[i + 1] == "(":
                    close = self._closing_paren(i + 1)
                    if close is not None:
                        self._mark(i + 1, i + 2)
                        self._mark(close, close + 1)
            elif ch == "_":
                if not (0 < i < n - 1 and s[i - 1].isalnum() and s[i + 1].isalnum()):  # snake_case is text
                    self._mark(i, i + 1)
            elif ch == "!" and i + 1 < n and s[i + 1] == "[":
                self._mark(i, i + 1)
            elif ch == "<":
                link = _AUTOLINK.match(s, i)
                if link is not None:
                    self._mark(i, i + 1)
                    self._mark(link.end() - 1, link.end())
            i += 1

    def _closing_paren(self, opening: int) -> int | None:
        """The `)` that closes the `(` at `opening` on the same line (a link's destination and title), or None.
        All pairs are found in one pass on first need: scanning forward from each `](` would be quadratic on
        hostile input such as "[a](" repeated."""
        if self._parens is None:
            self._parens = _paren_pairs(self.source)
        return self._parens.get(opening)

    def _line_start(self, i: int) -> int:
        """Past the block markers of the line starting at `i` (quotes, headings, list markers)."""
        s = self.source
        n = len(s)
        while True:
            j = i
            while j < n and s[j] in " \t":
                j += 1
            if j < n and s[j] == ">":
                self._mark(j, j + 1)
                i = j + 1
                continue
            marker = _BLOCK_MARKER.match(s, j)
            if marker is None:
                return j
            self._mark(j, marker.end())
            i = marker.end()
            # A bullet may hold a heading or another bullet ("- # title", "- - item"): read on.

    def _code_span(self, i: int) -> int:
        """A backtick run opens a code span closed by the next run of the same length. The runs are indexed by
        length once, so hostile input (runs of every length) costs a lookup per run, not a scan."""
        s = self.source
        j = _BACKTICKS.match(s, i).end()  # type: ignore[union-attr]  # s[i] is a backtick
        self._mark(i, j)
        if self._runs is None:
            self._runs = {}
            for run in _BACKTICKS.finditer(s):
                self._runs.setdefault(run.end() - run.start(), []).append(run.start())
        starts = self._runs.get(j - i, [])
        k = bisect.bisect_right(starts, i)
        if k == len(starts):
            return j  # an unmatched run is literal backticks: marked, never masked
        close = starts[k]
        self.code[j:close] = b"\x01" * (close - j)
        self._mark(close, close + (j - i))
        return close + (j - i)


def _paren_pairs(s: str) -> dict[int, int]:
    """Every balanced `(` -> `)` pair within a line, backslash escapes skipped: one pass."""
    pairs: dict[int, int] = {}
    open_at: list[int] = []
    for found in _PAREN_EVENTS.finditer(s):
        ch, at = found.group(), found.start()
        if ch == "\n":
            open_at.clear()
        elif ch == "(":
            open_at.append(at)
        elif ch == ")" and open_at:
            pairs[open_at.pop()] = at
        # an escape (backslash and the character after it) is skipped by the pattern itself
    return pairs
