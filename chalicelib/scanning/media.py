"""Audio and video (WAV, MP4, MOV): the container's first structure must be sane.

Players parse these formats themselves; the scanner's job is that the file is what its extension
says (filetypes.py) with no second format hidden in it (filetypes.is_polyglot), and that its header
is not garbage after the magic bytes.
"""

from __future__ import annotations

import struct

from chalicelib.scanning.filetypes import Kind
from chalicelib.scanning.reasons import Reason, Rejected


def inspect(kind: Kind, head: bytes, size: int) -> None:
    if kind is Kind.WAV:
        (riff_size,) = struct.unpack_from("<I", head, 4)
        # RIFF's size counts everything after its 8-byte header; a pad byte may follow an odd size.
        if riff_size + 8 > size + 1 or riff_size < 12:
            raise Rejected(Reason.MEDIA_MALFORMED, "RiffSize")
        if head[12:16] not in (b"fmt ", b"JUNK", b"LIST", b"bext", b"fact", b"iXML", b"PAD ", b"ds64"):
            raise Rejected(Reason.MEDIA_MALFORMED, "FirstChunk")
        return
    (box_size,) = struct.unpack_from(">I", head, 0)
    if box_size < 16 or box_size > min(size, 4096) or (box_size - 16) % 4:
        raise Rejected(Reason.MEDIA_MALFORMED, "FtypBox")
