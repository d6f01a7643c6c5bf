"""RTF: no embedded or linked OLE object and no DDE field (the classic RTF exploit carriers).

Control words cannot be escaped or split in RTF, so a byte scan over the streamed file finds them.
"""

from __future__ import annotations

import re

from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.windows import windows

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


def inspect(source) -> None:
    for window in windows(source.stream(), keep=_KEEP, context=_KEEP):
        for match in window.matches(_OBJECT):
            if _is_control_word(window.data, match.start(), window.base == 0):
                raise Rejected(Reason.RTF_OBJECT)
        for match in window.matches(_FIELD_INSTRUCTION):
            if _is_control_word(window.data, match.start(), window.base == 0) and _DDE.search(_instruction_text(window.data, match.end())):
                raise Rejected(Reason.RTF_FIELD_CODE)


def _is_control_word(data: bytes, backslash_at: int, from_file_start: bool) -> bool:
    """A backslash starts a control word unless it is itself escaped (`\\\\object` is the text `\\object`):
    an odd run of backslashes ending here is a control word, an even one is text. A run reaching back to
    the start of what we hold cannot be counted, so it counts as a control word (fail closed). Each run
    is walked once per match, and a run precedes only one match: linear in the file."""
    index = backslash_at - 1
    while index >= 0 and data[index] == 0x5C:
        index -= 1
    if index < 0 and not from_file_start:
        return True
    return (backslash_at - index - 1) % 2 == 0


def _instruction_text(data: bytes, start: int) -> bytes:
    """The text of the group holding `\\fldinst`, nested groups included, without control words."""
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
    return _CONTROL.sub(b"", data[start:end])
