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
# DDE / DDEAUTO field instructions run commands; Word reads them whatever the surrounding groups.
_DDE = re.compile(rb"(?i)\bdde(?:auto)?\b")
_KEEP = 64


def inspect(source) -> None:
    for window in windows(source.stream(), keep=_KEEP):
        for _ in window.matches(_OBJECT):
            raise Rejected(Reason.RTF_OBJECT)
        for _ in window.matches(_DDE):
            raise Rejected(Reason.RTF_FIELD_CODE)
