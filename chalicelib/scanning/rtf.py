"""RTF: no embedded or linked OLE object and no DDE field (the classic RTF exploit carriers).

Control words cannot be escaped or split in RTF, so a byte scan over the streamed file finds them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.windows import windows

if TYPE_CHECKING:
    from chalicelib.scanning.source import ByteSource

_OBJECT = re.compile(
    rb"\\(?:object|objdata|objemb|objlink|objautlink|objsub|objpub|objicemb|objhtml|objocx|objclass|objalias)"
    rb"(?![a-z])"
)
# DDE / DDEAUTO field instructions run commands. Word joins an instruction's text across nested
# groups and ignores control words inside it (`{D}{\b DE}AUTO`), so the instruction is judged after
# removing them, not as written.
_FIELD_INSTRUCTION = re.compile(rb"\\fldinst(?![a-z])")
_CONTROL = re.compile(rb"\\[a-z]+-?\d* ?|\\[^a-z]|[{}\r\n]")
_DDE = re.compile(rb"(?i)dde")
_MAX_INSTRUCTION = 8192
_KEEP = _MAX_INSTRUCTION + 64


def inspect(source: ByteSource, work: list[int] | None = None) -> None:
    """`work`, when given, gets the instruction bytes examined added to its first item (tests count it)."""
    judged_until = 0  # absolute offset: instructions starting before it were part of a judged one
    examined = 0
    for window in windows(source.stream(), keep=_KEEP, context=_KEEP):
        for match in window.matches(_OBJECT):
            if _is_control_word(window.data, match.start(), window.base == 0):
                raise Rejected(Reason.RTF_OBJECT)
        for match in window.matches(_FIELD_INSTRUCTION):
            if window.base + match.start() < judged_until:
                continue  # nested in an instruction already judged: its text was part of that one
            if not _is_control_word(window.data, match.start(), window.base == 0):
                continue  # an escaped backslash, then the text `fldinst`
            text, end = _instruction_text(window.data, match.end())
            examined += end - match.end()
            judged_until = window.base + end
            if _DDE.search(text):
                raise Rejected(Reason.RTF_FIELD_CODE)
    if work is not None:
        work[0] += examined


def _is_control_word(data: bytes, backslash_at: int, from_file_start: bool) -> bool:
    """A backslash starts a control word unless it is itself escaped (the RTF specification writes the
    word as text after an escaped backslash): an odd run of backslashes ending here is a control word, an
    even one is text. A run reaching back past what we hold cannot be counted, so it counts as a control
    word (fail closed). A run is walked once per match and precedes one match only: linear in the file."""
    index = backslash_at - 1
    while index >= 0 and data[index] == 0x5C:
        index -= 1
    if index < 0 and not from_file_start:
        return True
    return (backslash_at - index - 1) % 2 == 0


def _instruction_text(data: bytes, start: int) -> tuple[bytes, int]:
    """The text of the group holding `\\fldinst`, nested groups included, without control words, and
    where it ends. Each byte is examined by one instruction at most (nested ones are skipped by the
    caller), so a file of `\\fldinst` repeated costs its length, not 8 KiB per occurrence (29 s for
    256 KB before issue 17). An instruction still open after 8 KiB is refused: Word writes field
    instructions of a few dozen bytes, and judging only its start would let the rest pass unread."""
    depth = 1
    end = start
    limit = min(len(data), start + _MAX_INSTRUCTION)
    while end < limit and depth:
        byte = data[end]
        if byte == 0x5C:  # backslash: skip the escaped character so `\\{` does not count
            end += 2
            continue
        depth += byte == 0x7B
        depth -= byte == 0x7D
        end += 1
    if depth and end >= start + _MAX_INSTRUCTION:
        raise Rejected(Reason.RTF_FIELD_CODE, "LongInstruction")
    return _CONTROL.sub(b"", data[start:end]), end
