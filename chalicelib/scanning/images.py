"""Images: well-formed header, then Rekognition moderation of the object where it lies in S3.

The Lambda never downloads an image: it reads the header it sniffed and hands Rekognition the S3
location (docs/reference/rekognition.md). What Rekognition cannot take (HEIC, over 15 MB, under 80 or over 10,000
pixels a side, or a format error it reports) follows the unsupported-image policy.
"""

from __future__ import annotations

import struct
import zlib

from chalicelib.scanning.filetypes import Kind
from chalicelib.scanning.reasons import Reason, Rejected

REKOGNITION_S3_MAX_BYTES = 15 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 80, 10_000
# JPEG start-of-frame markers (SOF0..SOF15 except DHT, JPG and DAC) carry the dimensions.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def fits_rekognition(kind: Kind, head: bytes, size: int) -> bool:
    """Whether Rekognition can moderate this image; raises IMAGE_MALFORMED on a broken header."""
    if kind is Kind.HEIC or size > REKOGNITION_S3_MAX_BYTES:
        return False
    dimensions = png_dimensions(head) if kind is Kind.PNG else jpeg_dimensions(head)
    if dimensions is None:
        return True  # header longer than what we read: Rekognition will judge
    return all(MIN_SIDE <= side <= MAX_SIDE for side in dimensions)


def png_dimensions(head: bytes) -> tuple[int, int]:
    """Width and height from IHDR, which must be the first chunk with a valid CRC."""
    if len(head) < 33 or head[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise Rejected(Reason.IMAGE_MALFORMED, "IHDR")
    (crc,) = struct.unpack_from(">I", head, 29)
    if zlib.crc32(head[12:29]) != crc:
        raise Rejected(Reason.IMAGE_MALFORMED, "IHDRCrc")
    width, height = struct.unpack_from(">II", head, 16)
    return width, height


def jpeg_dimensions(head: bytes) -> tuple[int, int] | None:
    """Width and height from the first SOF segment, or None when it lies beyond `head`."""
    offset = 2
    while offset + 4 <= len(head):
        if head[offset] != 0xFF:
            raise Rejected(Reason.IMAGE_MALFORMED, "Marker")
        marker = head[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in (0xD8, 0xD9) or 0xD0 <= marker <= 0xD7:
            raise Rejected(Reason.IMAGE_MALFORMED, "Marker")
        (length,) = struct.unpack_from(">H", head, offset + 2)
        if length < 2:
            raise Rejected(Reason.IMAGE_MALFORMED, "Segment")
        if marker in _SOF:
            if offset + 9 > len(head):
                return None
            height, width = struct.unpack_from(">HH", head, offset + 5)
            return width, height
        if marker == 0xDA:  # image data before any frame header
            raise Rejected(Reason.IMAGE_MALFORMED, "NoFrame")
        offset += 2 + length
    return None
