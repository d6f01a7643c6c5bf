"""PDF: no script, no automatic or launch action, no embedded file, rich media or XFA form.

The whole file is streamed once. Names are compared after decoding `#xx` escapes (`/J#61vaScript`
is `/JavaScript` to every reader). Compressed object streams (`/Type /ObjStm`, PDF 1.5+) hold
dictionaries too, so they are inflated as they stream past (capped) and scanned the same way; one
we cannot decode is a rejection, because it is exactly where an attacker would hide an action.
Other streams (page content, images, fonts) are not inflated: readers never parse objects there.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.windows import windows

if TYPE_CHECKING:
    from chalicelib.scanning.pdf_crypt import Security, StreamDecryptor
    from chalicelib.scanning.source import ByteSource

_DELIMS = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
# Either a name that is dangerous as written, or any name with a `#` escape (decoded, then judged).
_NAME = re.compile(
    rb"/(JavaScript|JS|AA|OpenAction|Launch|EmbeddedFiles?|EF|FileAttachment|GoToE|RichMedia|XFA|Encrypt|ObjStm"
    rb"|[^" + _DELIMS + rb"#]*#[^" + _DELIMS + rb"]*)(?=[" + _DELIMS + rb"]|\Z)"
)
# No `(?<!end)` lookbehind in the pattern: it would cost re its fast literal search (6x slower here).
_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Filters a reader would decode before parsing objects, which we do not: an object stream using one is opaque.
_OPAQUE_FILTERS = re.compile(
    rb"/(?:LZWDecode|LZW|ASCIIHexDecode|AHx|ASCII85Decode|A85|RunLengthDecode|RL|Crypt)(?![A-Za-z])"
)
_OBJECT_STREAM_HEADER = re.compile(rb"\s*\d+\s+\d+\s")

_ALWAYS = {
    b"JavaScript": Reason.PDF_JAVASCRIPT,
    b"Launch": Reason.PDF_LAUNCH,
    b"EmbeddedFile": Reason.PDF_EMBEDDED_FILE,
    b"EmbeddedFiles": Reason.PDF_EMBEDDED_FILE,
    b"GoToE": Reason.PDF_EMBEDDED_FILE,
    b"FileAttachment": Reason.PDF_EMBEDDED_FILE,
    b"RichMedia": Reason.PDF_RICH_MEDIA,
    b"XFA": Reason.PDF_XFA,
}
# Short names also occur by chance inside binary streams; they count only when followed by the kind
# of value they take in a dictionary. `/OpenAction [page /Fit]` (a destination) is harmless.
# Between a key and its value PDF allows any whitespace and comments; an implausibly long run of
# them is itself treated as the dangerous value (it could only be there to push the value away).
_GAP = re.compile(rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*[\r\n])*")
_MAX_GAP = 256
_REFERENCE_OR_DICT = re.compile(rb"<<|\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+R")
_WITH_VALUE = {
    b"JS": (Reason.PDF_JAVASCRIPT, re.compile(rb"\(|<|\d")),
    b"AA": (Reason.PDF_AUTO_ACTION, _REFERENCE_OR_DICT),
    b"OpenAction": (Reason.PDF_AUTO_ACTION, _REFERENCE_OR_DICT),
    b"EF": (Reason.PDF_EMBEDDED_FILE, _REFERENCE_OR_DICT),  # a file specification's embedded stream
}
_KEEP = 1024  # longest name (127), the longest gap we accept, and the value peeked at
_DICT_LOOKBACK = 4096  # an object stream's dictionary precedes its `stream` keyword within this
_CHUNK = 1024 * 1024


def decode_name(raw: bytes) -> bytes:
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw) if b"#" in raw else raw


class _NameScanner:
    """Finds dangerous names in a run of PDF syntax; remembers `/Encrypt`."""

    def __init__(self) -> None:
        self.encrypted = False

    def scan(self, data: bytes, matches: Iterable[re.Match[bytes]], strings: _Strings | None = None) -> None:
        """`strings`: `data` is the file itself, where an object header tells where strings are."""
        for match in matches:
            name = decode_name(match.group(1))
            if (name in _ALWAYS or name in _WITH_VALUE) and strings is not None and strings.inside(match.start()):
                continue  # text such as `(https://en.wikipedia.org/wiki/JavaScript)`: no reader sees a name
            reason = _ALWAYS.get(name)
            if reason is not None:
                raise Rejected(reason)
            rule = _WITH_VALUE.get(name)
            if rule is not None:
                gap = _GAP.match(data, match.end())  # always matches (possibly empty)
                value_at = gap.end() if gap else match.end()
                if value_at - match.end() >= _MAX_GAP or rule[1].match(data, value_at):
                    raise Rejected(rule[0])
            if name == b"Encrypt":
                self.encrypted = True


class _ObjectStream:
    """Inflates one object stream as its bytes pass by, scanning what comes out."""

    def __init__(
        self, names: _NameScanner, budget: list[int], declared: bool = True, decryptor: StreamDecryptor | None = None
    ) -> None:
        self._inflater = zlib.decompressobj()
        self._decryptor = decryptor
        self._declared = declared
        self._broken = False
        self._names = names
        self._budget = budget  # [bytes still allowed to inflate], shared by all object streams
        self._pending = b""

    @property
    def done(self) -> bool:
        return self._inflater.eof or self._broken

    def feed(self, data: bytes) -> None:
        if self._decryptor is not None and not self.done:
            data = self._decryptor.update(data)
        while data and not self.done:
            try:
                out = self._inflater.decompress(data, _CHUNK)
            except zlib.error:
                if not self._declared:
                    # Found by its content only (a page's drawing commands also begin with numbers) and damaged
                    # further on: a reader inflates no more of it than we did, and what came out was scanned.
                    self._broken = True
                    return
                raise Rejected(Reason.PDF_UNREADABLE_STREAM) from None
            data = self._inflater.unconsumed_tail
            self._budget[0] -= len(out)
            if self._budget[0] < 0:
                raise Rejected(Reason.PDF_UNREADABLE_STREAM, "InflateLimit")
            self._scan(out, final=self._inflater.eof)

    def _scan(self, out: bytes, final: bool) -> None:
        text = self._pending + out
        limit = len(text) if final else max(len(text) - _KEEP, 0)
        self._names.scan(text, (m for m in _NAME.finditer(text) if m.start() < limit))
        self._pending = b"" if final else text[limit:]


def inspect(source: ByteSource, *, allow_encrypted: bool, max_inflated: int) -> None:
    """Raise Rejected unless the PDF is free of active content."""
    from chalicelib.scanning import pdf_crypt

    try:
        security = pdf_crypt.find_security(source)  # encrypted, yet opens without a password: inspect it
    except Rejected:
        if not allow_encrypted:
            raise
        security = None
    names = _NameScanner()
    budget = [max_inflated]
    active: _ObjectStream | None = None
    fed_upto = 0  # absolute offset up to which `active` has been fed
    for window in windows(source.stream(0, None, _CHUNK), keep=_KEEP, context=_DICT_LOOKBACK):
        data, base = window.data, window.base
        names.scan(data, window.matches(_NAME), _Strings(data))
        for match in window.matches(_STREAM):
            if data[max(match.start() - 3, 0) : match.start()] == b"end":
                continue
            if active is not None and not active.done:
                # An object stream that began in an earlier window ends before this keyword: finish it first.
                _feed(active, data, base, fed_upto, upto=match.start())
                fed_upto = max(fed_upto, base + match.start())
                if not active.done:
                    raise Rejected(Reason.PDF_UNREADABLE_STREAM, "Truncated")
            active = _open_object_stream(data, match.start(), match.end(), names, budget, security)
            fed_upto = base + match.end()
            if active is not None:
                _feed(active, data, base, fed_upto, upto=window.limit)
                fed_upto = base + window.limit
        if active is not None and not active.done:
            end = len(data) if window.final else window.limit
            _feed(active, data, base, fed_upto, upto=end)
            fed_upto = base + end
    if active is not None and not active.done:
        raise Rejected(Reason.PDF_UNREADABLE_STREAM, "Truncated")
    if names.encrypted and security is None and not allow_encrypted:
        raise Rejected(Reason.PDF_ENCRYPTED)
    # No `%%EOF` check: every reader opens a PDF without it (truncated downloads, some generators), and
    # what it would guard against, data after the end, is scanned like the rest.


def _feed(stream: _ObjectStream, data: bytes, base: int, fed_upto: int, upto: int) -> None:
    begin = fed_upto - base
    if begin < upto:
        stream.feed(data[begin:upto])


def _open_object_stream(
    data: bytes, keyword_at: int, data_at: int, names: _NameScanner, budget: list[int], security: Security | None = None
) -> _ObjectStream | None:
    """An inflater for the stream starting at `data_at` if it is an object stream, else None.

    Two independent tests:
    - by content: any stream that inflates to an object-stream header (pairs of integers) is one,
      whatever its dictionary claims;
    - by declaration: a dictionary saying `/ObjStm` with a filter chain or predictor we do not
      decode, or that does not inflate, is unreadable, hence rejected.
    """
    dictionary = _dictionary_before(data, keyword_at)
    declared = b"/ObjStm" in dictionary
    if declared and (_OPAQUE_FILTERS.search(dictionary) or b"/DecodeParms" in dictionary):
        raise Rejected(Reason.PDF_UNREADABLE_STREAM, "Filter")
    sample = data[data_at : data_at + 1024]
    numbers = _object_numbers(data, keyword_at) if security is not None else None
    if security is not None and numbers is not None:
        sample = security.decryptor(*numbers).update(sample)
    try:
        first = zlib.decompressobj().decompress(sample, 64)
    except zlib.error:
        first = None
    if first is not None and _OBJECT_STREAM_HEADER.match(first):
        decryptor = security.decryptor(*numbers) if security is not None and numbers is not None else None
        return _ObjectStream(names, budget, declared, decryptor)
    if declared and b"/Filter" in dictionary:
        # Declared and compressed, yet not an inflatable object stream: encrypted, or built to hide.
        raise Rejected(Reason.PDF_UNREADABLE_STREAM, "NotInflatable")
    return None


def _object_numbers(data: bytes, keyword_at: int) -> tuple[int, int] | None:
    """Number and generation of the object whose `stream` keyword is at `keyword_at` (its decryption key)."""
    last = _last(_OBJECT_HEADER.finditer(data, max(keyword_at - _DICT_LOOKBACK, 0), keyword_at))
    if last is None:
        return None
    number, generation = last.group(0).split()[:2]
    return int(number), int(generation)


def _dictionary_before(data: bytes, keyword_at: int) -> bytes:
    """The stream's dictionary: from its object header to `stream`, names decoded.

    Seen from behind, the header is the last `obj` keyword. If that `obj` sits inside a string or a
    comment (a fake header planted to hide `/ObjStm`), the whole lookback is returned instead: a
    larger region can only make the declaration test stricter.
    """
    lookback = data[max(keyword_at - _DICT_LOOKBACK, 0) : keyword_at]
    header = lookback.rfind(b"obj")
    if header < 0 or not _outside_strings_and_comments(lookback, header):
        return decode_name(lookback)
    return decode_name(lookback[header:])


def _last(matches: Iterator[re.Match[bytes]]) -> re.Match[bytes] | None:
    return next(iter(deque(matches, maxlen=1)), None)


# Starts where a number starts: inside a run of digits re would retry every suffix (quadratic in the run).
_OBJECT_HEADER = re.compile(rb"(?<![0-9])\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+obj(?![A-Za-z])")


class _Strings:
    """Whether a name lies inside a literal string `( ... )` of the object around it, lexed as a reader does.

    Only a provable answer counts: the object's header must be within the lookback and begin its line (not a
    fake one inside a comment or after a string), with no `endobj` or `stream` between it and the name.
    Otherwise the name counts. Asked in increasing order within one window: each header is found once and its
    object lexed once, resuming where the previous question stopped, so the work is linear in the window
    (`work` counts the bytes lexed); lexing from the header at every name cost 4 KiB per name.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._headers = _OBJECT_HEADER.finditer(data)
        self._next = next(self._headers, None)
        self._header: re.Match[bytes] | None = None
        self._provable = False
        self._stop = 0  # the first `endobj` or `stream` after the header ends here
        self._index = 0  # lexed up to here (absolute), with
        self._depth = 0  # the string nesting depth there
        self.work = 0

    def inside(self, at: int) -> bool:
        while self._next is not None and self._next.end() <= at:
            self._enter(self._next)
            self._next = next(self._headers, None)
        header = self._header
        if header is None or header.start() < at - _DICT_LOOKBACK or not self._provable or self._stop <= at:
            return False
        self._lex(at)
        return self._depth > 0

    def _enter(self, header: re.Match[bytes]) -> None:
        data = self._data
        self._header, self._index, self._depth = header, header.end(), 0
        start = header.start()
        floor = max(start - _DICT_LOOKBACK, 0)
        while start > floor and data[start - 1] in b"\x00\t\x0c ":
            start -= 1
        self.work += header.start() - start
        self._provable = start > floor and data[start - 1] in b"\r\n"
        if self._provable:
            limit = header.end() + _DICT_LOOKBACK + 8
            ends = [
                found + len(word)
                for word in (b"endobj", b"stream")
                if (found := data.find(word, header.end(), limit)) >= 0
            ]
            self._stop = min(ends, default=limit)

    def _lex(self, at: int) -> None:
        data, index, depth = self._data, self._index, self._depth
        begun = index
        while index < at:
            byte = data[index]
            if depth:
                if byte == 0x5C:  # backslash escapes the next byte inside a string
                    index += 2
                    continue
                depth += (byte == 0x28) - (byte == 0x29)
            elif byte == 0x28:
                depth = 1
            elif byte == 0x25:  # a comment runs to the end of the line
                breaks = (data.find(b"\n", index, at), data.find(b"\r", index, at))
                index = min((i for i in breaks if i >= 0), default=at)
            index += 1
        self.work += max(index - begun, 0)
        self._index, self._depth = index, depth


def _outside_strings_and_comments(text: bytes, at: int) -> bool:
    """Whether position `at` cannot lie inside a literal string or a comment, judging from what follows it."""
    line_start = max(text.rfind(b"\n", 0, at), text.rfind(b"\r", 0, at)) + 1
    if b"%" in text[line_start:at]:
        return False
    depth = 0
    index = at
    while index < len(text):
        byte = text[index]
        if byte == 0x5C:  # backslash escapes the next byte inside a string
            index += 2
            continue
        if byte == 0x28:
            depth += 1
        elif byte == 0x29:
            depth -= 1
            if depth < 0:
                return False  # a `)` closing a string that opened before `at`
        index += 1
    return depth == 0
