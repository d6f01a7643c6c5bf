"""Text length as Connect and Messenger limit it: UTF-16 code units (a character outside the BMP, such
as most emoji, is two). Never fewer than code points, so a limit kept in units is kept either way."""

from __future__ import annotations


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_prefix(text: str, limit: int) -> str:
    """The longest prefix of at most `limit` UTF-16 units (never splitting a surrogate pair)."""
    if len(text) * 2 <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text
