"""ClamAV as the antivirus engine: a warm `clamd` fed the object's bytes over `INSTREAM`.

Never `clamscan` per file: loading the signature database takes 15-30 s, which is why per-file
designs time out. clamd keeps it loaded; we stream the S3 object to it chunk by chunk (ranged GETs
through `ByteSource.stream`), so neither the scanner nor clamd's socket ever holds the whole file in
our memory, and every step runs under the scan deadline.

Protocol (docs/reference/malware-engines.md#clamd-protocol): `zINSTREAM\\0`, then repeated
`<uint32 big-endian length><bytes>`, a zero-length chunk, and one `\\0`-terminated reply:
`stream: OK`, `stream: <Signature> FOUND`, `stream: <error> ERROR` or
`INSTREAM size limit exceeded. ERROR` (after which clamd closes the socket, possibly while we are still
sending: the reply is read after a send failure too).

Written here rather than taken from PyPI: the maintained client (`clamav-client`) is GPL-2.0, which
does not fit this project's licence, and the LGPL `clamd` package is unmaintained and sends with
`socket.send` (short writes). The protocol is a few lines of `socket`; tests run it against a real clamd.

Fail closed: a refused connection, a timeout, an ERROR reply, anything unparseable is a rejection.
Heuristic alerts for limits and encryption (`AlertExceedsMax`, `AlertEncrypted`, set in every clamd
config this project ships) arrive as FOUND with a `Heuristics.` name and get their own reason codes.
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.reasons import Reason, Rejected
from chalicelib.scanning.source import ByteSource

# clamd reads each chunk into a buffer of that size; 256 KiB keeps our sends few and its buffer small.
CHUNK_BYTES = 256 * 1024
_MAX_REPLY = 4096
_REPLY = re.compile(r"stream: (?P<body>.*) (?P<status>FOUND|ERROR)|stream: OK|(?P<other>.*ERROR)", re.DOTALL)
# Signature names are printable ASCII without spaces in every official and custom DB; anything else is
# replaced so that the decision log never carries bytes clamd echoed from the file.
_SIGNATURE_UNSAFE = re.compile(r"[^A-Za-z0-9_.:\-]")


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        """`host:port` (IPv6 as `[::1]:3310`). Raises ValueError."""
        host, colon, port = text.strip().rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("expected host:port")
        return cls(host, int(port))

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Reply:
    """clamd's answer to one INSTREAM: clean, or a signature name, or an error."""

    signature: str | None = None  # set when FOUND
    error: str | None = None  # a log-safe error code when clamd could not scan

    @property
    def clean(self) -> bool:
        return self.signature is None and self.error is None


def parse_reply(raw: bytes) -> Reply:
    text = raw.rstrip(b"\0\n").decode("ascii", "replace")
    match = _REPLY.fullmatch(text)
    if not match:
        return Reply(error="unparseable_reply")
    if match.group("other") is not None:
        return Reply(error="size_limit" if "size limit" in text else "clamd_error")
    if match.group("status") == "FOUND":
        name = _SIGNATURE_UNSAFE.sub("_", match.group("body"))[:128]
        return Reply(signature=name or "unnamed")
    if match.group("status") == "ERROR":
        return Reply(error="scan_error")
    return Reply()


class ClamdClient:
    """A minimal clamd client over TCP: PING and INSTREAM, each on its own connection."""

    def __init__(self, address: Address, connect_timeout: float = 2.0):
        self.address = address
        self._connect_timeout = connect_timeout

    def ping(self, deadline: Deadline) -> bool:
        try:
            with self._connect(deadline) as conn:
                conn.sendall(b"zPING\0")
                return _read_reply(conn, deadline) == b"PONG"
        except (OSError, Rejected):
            return False

    def instream(self, chunks: Iterable[bytes], deadline: Deadline) -> Reply:
        """Send every chunk, then read the verdict. Never raises for clamd's own failures: returns an error Reply.

        Rejected from the chunk source (S3 error, deadline) propagates unchanged.
        """
        try:
            conn = self._connect(deadline)
        except OSError as exc:
            return Reply(error=f"unreachable_{type(exc).__name__}")
        with conn:
            try:
                conn.sendall(b"zINSTREAM\0")
                for chunk in chunks:
                    for start in range(0, len(chunk), CHUNK_BYTES):
                        piece = chunk[start : start + CHUNK_BYTES]
                        conn.settimeout(_timeout(deadline))
                        conn.sendall(struct.pack(">I", len(piece)) + piece)
                conn.settimeout(_timeout(deadline))
                conn.sendall(b"\0\0\0\0")
            except OSError as exc:
                # clamd closes the socket once a stream exceeds StreamMaxLength: its reply says why.
                try:
                    return parse_reply(_read_reply(conn, deadline))
                except (OSError, Rejected):
                    return Reply(error=f"send_{type(exc).__name__}")
            try:
                return parse_reply(_read_reply(conn, deadline))
            except OSError as exc:
                return Reply(error=f"reply_{type(exc).__name__}")

    def _connect(self, deadline: Deadline) -> socket.socket:
        timeout = min(self._connect_timeout, _timeout(deadline))
        conn = socket.create_connection((self.address.host, self.address.port), timeout=timeout)
        conn.settimeout(_timeout(deadline))
        return conn


def _timeout(deadline: Deadline) -> float:
    remaining = deadline.remaining()
    if remaining <= 0:
        raise Rejected(Reason.DEADLINE_EXCEEDED)
    return remaining


def _read_reply(conn: socket.socket, deadline: Deadline) -> bytes:
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < _MAX_REPLY:
        conn.settimeout(_timeout(deadline))
        piece = conn.recv(_MAX_REPLY)
        if not piece:
            break
        reply += piece
    if not reply.endswith(b"\0"):
        raise ConnectionError("incomplete reply")
    return reply[:-1]


class ClamavEngine:
    """The `Antivirus` port on clamd: the whole object, streamed, must come back `stream: OK`."""

    name = "clamav"
    runs_last = False  # reads the bytes itself: a known malware is named before any other check

    def __init__(self, client: ClamdClient):
        self._client = client

    def check(self, source: ByteSource, deadline: Deadline, bucket: str, key: str, version: str | None) -> None:
        reply = self._client.instream(source.stream(), deadline)
        if reply.error is not None:
            if reply.error == "size_limit":
                raise Rejected(Reason.ANTIVIRUS_LIMIT, "StreamMaxLength")
            if reply.error.startswith("unreachable_"):
                raise Rejected(Reason.ANTIVIRUS_UNAVAILABLE, reply.error)
            raise Rejected(Reason.ANTIVIRUS_ERROR, reply.error)
        if reply.signature is not None:
            raise Rejected(reason_for_signature(reply.signature), reply.signature)


def reason_for_signature(signature: str) -> Reason:
    """Heuristic alerts that are not malware keep their own codes; everything else FOUND is malware."""
    if signature.startswith("Heuristics.Limits.Exceeded"):
        return Reason.ANTIVIRUS_LIMIT
    if signature.startswith("Heuristics.Encrypted"):
        return Reason.ANTIVIRUS_ENCRYPTED
    return Reason.MALWARE
