"""Encrypted PDFs that open without a password: find the key, so their object streams can be inspected.

Many PDFs are "encrypted" only to carry permissions (no printing, no copying): the user password is
empty and every reader opens them at once. Rejecting them as password-protected was a false rejection.
For the Standard security handler (ISO 32000-1 §7.6.3 algorithms 2, 4, 5 for revisions 2-4, RC4 and AES-128;
ISO 32000-2 §7.6.4.3 algorithms 2.A/2.B for revisions 5-6, AES-256) this module tries the empty user
password; when it opens the file, object streams are decrypted before they are inflated and scanned.
Names (`/JavaScript`, `/OpenAction`, ...) are never encrypted, so the rest of the scan is unchanged.
A file that needs a real user password cannot be inspected and stays a rejection (`pdf_encrypted`).

The encryption dictionary is found from the trailer (first and last 16 KiB, where `/Encrypt` lives, read in
one request for a file up to 32 KiB). An indirect one is looked for in the last 16 KiB first, where writers put
it; only when it is elsewhere does one more streamed pass look for its `N G obj` header.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.source import head_and_tail
from chalicelib.scanning.windows import windows

if TYPE_CHECKING:
    from chalicelib.scanning.source import ByteSource

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
_EDGE = 16 * 1024
_ENCRYPT = re.compile(rb"/Encrypt[\x00\t\n\x0c\r ]*(?:(<<)|(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R)")
_ID = re.compile(rb"/ID[\x00\t\n\x0c\r ]*\[[\x00\t\n\x0c\r ]*(<[0-9A-Fa-f\x00\t\n\x0c\r ]*>|\()")
_MAX_DICT = 64 * 1024


@dataclass(frozen=True)
class Security:
    key: bytes
    revision: int
    aes: bool  # streams use AES (AESV2/AESV3) rather than RC4

    def object_key(self, number: int, generation: int) -> bytes:
        if self.revision >= 5:
            return self.key  # AES-256 uses the file key itself
        salt = b"sAlT" if self.aes else b""
        digest = hashlib.md5(
            self.key + struct.pack("<I", number)[:3] + struct.pack("<I", generation)[:2] + salt
        ).digest()
        return digest[: min(len(self.key) + 5, 16)]

    def decryptor(self, number: int, generation: int) -> StreamDecryptor:
        return StreamDecryptor(self.object_key(number, generation), self.aes)


class StreamDecryptor:
    """Decrypts one stream incrementally: RC4, or AES-CBC whose first 16 bytes are the IV."""

    def __init__(self, key: bytes, aes: bool):
        self._key = key
        self._aes = aes
        self._pending = b""
        self._cipher: Any = None
        if not aes:
            from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
            from cryptography.hazmat.primitives.ciphers import Cipher

            self._cipher = Cipher(ARC4(key), mode=None).decryptor()

    def update(self, data: bytes) -> bytes:
        if self._cipher is None:
            self._pending += data
            if len(self._pending) < 16:
                return b""
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

            iv, data, self._pending = self._pending[:16], self._pending[16:], b""
            self._cipher = Cipher(algorithms.AES(self._key), modes.CBC(iv)).decryptor()
        return bytes(self._cipher.update(data))


def find_security(source: ByteSource) -> Security | None:
    """None when the file is not encrypted as far as its trailer says; Rejected(PDF_ENCRYPTED) when it needs a
    password or uses a handler we do not implement; else the Security that opens it."""
    head, tail = head_and_tail(source, _EDGE, _EDGE)  # one request for a small file: `head` is then all of it
    whole = source.size <= 2 * _EDGE
    edges = head if whole else head + b"\n" + tail
    found = next(iter(deque(_ENCRYPT.finditer(edges), maxlen=1)), None)
    if found is None:
        return None
    if found.group(1):
        dictionary = _balanced_dict(edges, found.start(1))
    else:
        dictionary = _indirect_object(source, int(found.group(2)), int(found.group(3)), head if whole else tail, whole)
    identifier = _first_id(edges)
    entries = _parse_entries(dictionary)
    return _open_with_empty_password(entries, identifier)


def _balanced_dict(data: bytes, start: int) -> bytes:
    depth, index = 0, start
    limit = min(len(data), start + _MAX_DICT)
    while index < limit - 1:
        pair = data[index : index + 2]
        if pair == b"<<":
            depth += 1
            index += 2
            continue
        if pair == b">>":
            depth -= 1
            index += 2
            if depth == 0:
                return data[start:index]
            continue
        if data[index] == 0x28:  # a literal string may hold `>>`
            index = _skip_string(data, index)
            continue
        index += 1
    raise Rejected(Reason.PDF_ENCRYPTED, "EncryptDict")


def _skip_string(data: bytes, index: int) -> int:
    depth = 0
    while index < len(data):
        byte = data[index]
        if byte == 0x5C:
            index += 2
            continue
        depth += (byte == 0x28) - (byte == 0x29)
        index += 1
        if depth == 0:
            break
    return index


def _indirect_object(source: ByteSource, number: int, generation: int, tail: bytes, whole: bool) -> bytes:
    """The last definition of object `number generation` (incremental updates append newer ones).

    Writers put the encryption dictionary near the trailer: a definition in the file's last bytes (`tail`, the
    whole file when `whole`) is the last one, found without another read. Otherwise one streamed pass.
    """
    header = re.compile(rb"(?<![0-9])%d[\x00\t\n\x0c\r ]+%d[\x00\t\n\x0c\r ]+obj" % (number, generation))
    # In a tail cut from a larger file, a match at its first byte may be the end of a longer number.
    found = _last_definition(header, tail, 0 if whole else 1, len(tail))
    if found is not None:
        return _balanced_dict(tail, found)
    if whole:
        raise Rejected(Reason.PDF_ENCRYPTED, "EncryptDict")
    last = None
    for window in windows(source.stream(), keep=_MAX_DICT):
        # Only the window's last definition is read (a dictionary is up to 64 KiB of Python: once per window).
        found = _last_definition(header, window.data, window.start, window.limit)
        if found is not None:
            last = _balanced_dict(window.data, found)
    if last is None:
        raise Rejected(Reason.PDF_ENCRYPTED, "EncryptDict")
    return last


def _last_definition(header: re.Pattern[bytes], data: bytes, start: int, limit: int) -> int | None:
    """Where the dictionary of the last `header` starting in data[start:limit] begins, if it has one."""
    found = None
    for match in header.finditer(data, start):
        if match.start() >= limit:
            break
        begin = data.find(b"<<", match.end(), match.end() + 64)
        if begin >= 0:
            found = begin
    return found


def _first_id(edges: bytes) -> bytes:
    match = _ID.search(edges)
    if match is None:
        return b""
    if match.group(1).startswith(b"<"):
        return _hex(match.group(1))
    end = _skip_string(edges, match.start(1))
    return _literal(edges[match.start(1) : end])


_ENTRY = re.compile(rb"/(V|R|Length|P|O|U|OE|UE|StmF|Filter|CFM|EncryptMetadata)(?![A-Za-z0-9])[\x00\t\n\x0c\r ]*")


_NAME_VALUE = re.compile(rb"/([^\x00\t\n\x0c\r /<>\[\]()]*)")
_NUMBER_VALUE = re.compile(rb"-?\d+|true|false")


def _parse_entries(dictionary: bytes) -> dict[str, Any]:
    """The entries we need, from the outer dictionary and its crypt filter (`/CF << /StdCF << /CFM ... >> >>`)."""
    entries: dict[str, Any] = {}
    for match in _ENTRY.finditer(dictionary):
        key, at = match.group(1).decode(), match.end()
        value = dictionary[at : at + 1]
        if value == b"(":
            entries.setdefault(key, _literal(dictionary[at : _skip_string(dictionary, at)]))
        elif value == b"<" and dictionary[at : at + 2] != b"<<":
            entries.setdefault(key, _hex(dictionary[at : dictionary.find(b">", at) + 1]))
        elif value == b"/":
            name = _NAME_VALUE.match(dictionary, at)
            entries.setdefault(key, name.group(1).decode("latin-1") if name else "")
        else:
            number = _NUMBER_VALUE.match(dictionary, at)
            if number:
                text = number.group(0)
                entries.setdefault(key, text == b"true" if text in (b"true", b"false") else int(text))
    return entries


def _literal(raw: bytes) -> bytes:
    """A literal string's bytes, `(` and `)` excluded, escapes resolved (PDF 7.3.4.2)."""
    body, out, index = raw[1:-1], bytearray(), 0
    escapes = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12, 40: 40, 41: 41, 92: 92}
    while index < len(body):
        byte = body[index]
        if byte != 0x5C:
            out.append(byte)
            index += 1
            continue
        index += 1
        if index >= len(body):
            break
        nxt = body[index]
        if nxt in escapes:
            out.append(escapes[nxt])
            index += 1
        elif 0x30 <= nxt <= 0x37:
            octal = re.match(rb"[0-7]{1,3}", body[index : index + 3])
            assert octal is not None  # `nxt` is an octal digit
            digits = octal.group(0)
            out.append(int(digits, 8) & 0xFF)
            index += len(digits)
        elif nxt in (10, 13):  # line continuation
            index += 2 if body[index : index + 2] == b"\r\n" else 1
        else:
            out.append(nxt)
            index += 1
    return bytes(out)


def _hex(raw: bytes) -> bytes:
    digits = re.sub(rb"[^0-9A-Fa-f]", b"", raw)
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits.decode())


def _open_with_empty_password(entries: dict[str, Any], identifier: bytes) -> Security:
    if entries.get("Filter") != "Standard":
        raise Rejected(Reason.PDF_ENCRYPTED, "Handler")
    revision, version = entries.get("R"), entries.get("V")
    owner, user = entries.get("O"), entries.get("U")
    if not isinstance(revision, int) or not isinstance(owner, bytes) or not isinstance(user, bytes):
        raise Rejected(Reason.PDF_ENCRYPTED, "EncryptDict")
    aes = entries.get("CFM") in ("AESV2", "AESV3")
    if revision in (5, 6):
        key = _key_r56(revision, user, entries.get("UE"))
        return Security(key, revision, aes=True)
    if revision not in (2, 3, 4):
        raise Rejected(Reason.PDF_ENCRYPTED, "Revision")
    declared_bits = int(entries.get("Length", 40))
    # /Length is in bits (40..128); some writers put the crypt filter's byte count (16) there.
    length = 5 if revision == 2 else max(5, min(16, declared_bits // 8 if declared_bits >= 40 else declared_bits))
    if version == 4 and entries.get("CFM") == "None":
        aes = False
    permissions = int(entries.get("P", 0))
    material = _PAD + owner[:32] + struct.pack("<i", permissions) + identifier
    if revision >= 4 and entries.get("EncryptMetadata") is False:
        material += b"\xff\xff\xff\xff"
    key = hashlib.md5(material).digest()[:length]
    if revision >= 3:
        for _ in range(50):
            key = hashlib.md5(key[:length]).digest()[:length]
    if not _user_password_matches(key, revision, user, identifier):
        raise Rejected(Reason.PDF_ENCRYPTED, "Password")
    return Security(key, revision, aes)


def _rc4(key: bytes, data: bytes) -> bytes:
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    from cryptography.hazmat.primitives.ciphers import Cipher

    return bytes(Cipher(ARC4(key), mode=None).encryptor().update(data))


def _user_password_matches(key: bytes, revision: int, user: bytes, identifier: bytes) -> bool:
    if revision == 2:
        return _rc4(key, _PAD) == user[:32]
    value = _rc4(key, hashlib.md5(_PAD + identifier).digest())
    for step in range(1, 20):
        value = _rc4(bytes(byte ^ step for byte in key), value)
    return value == user[:16]


def _key_r56(revision: int, user: bytes, user_encrypted: Any) -> bytes:
    if len(user) < 48 or not isinstance(user_encrypted, bytes) or len(user_encrypted) < 32:
        raise Rejected(Reason.PDF_ENCRYPTED, "EncryptDict")
    validation_salt, key_salt = user[32:40], user[40:48]
    if _hash_r56(revision, b"", validation_salt) != user[:32]:
        raise Rejected(Reason.PDF_ENCRYPTED, "Password")
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    intermediate = _hash_r56(revision, b"", key_salt)
    decryptor = Cipher(algorithms.AES(intermediate), modes.CBC(b"\0" * 16)).decryptor()
    return bytes(decryptor.update(user_encrypted[:32]) + decryptor.finalize())


def _hash_r56(revision: int, password: bytes, salt: bytes) -> bytes:
    """Algorithm 2.A (R5: one SHA-256) and 2.B (R6: the iterated hash), user password, no owner data."""
    digest = hashlib.sha256(password + salt).digest()
    if revision == 5:
        return digest
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    rounds = 0
    while True:
        block = (password + digest) * 64
        encryptor = Cipher(algorithms.AES(digest[:16]), modes.CBC(digest[16:32])).encryptor()
        encrypted = encryptor.update(block) + encryptor.finalize()
        choice = sum(encrypted[:16]) % 3
        digest = (hashlib.sha256, hashlib.sha384, hashlib.sha512)[choice](encrypted).digest()
        rounds += 1
        if rounds >= 64 and encrypted[-1] <= rounds - 32:
            return digest[:32]
