"""Ports for the sandbox's servers, held from the moment they are chosen until the servers stop.

Choosing a free port and binding it later is a race: in between, any outgoing connection on the machine may
take it as its ephemeral source port (CI saw the Connect emulator fail with "Address already in use" after
the stack had opened a few hundred connections to moto). A reservation is a socket bound with SO_REUSEADDR
that never listens. On Linux the kernel then gives the port to neither `connect()` nor `bind(0)`, while a
server that also sets SO_REUSEADDR (http.server, werkzeug, chalice local, clamd) can still bind and listen on
it, in this process or in a child. (Unless `net.ipv4.ip_autobind_reuse` is 1, off by default: then a bind(0)
with SO_REUSEADDR may share it.) Elsewhere SO_REUSEADDR does not let two sockets bind one address, so off Linux
a reservation only picks a free port, as before, and the race remains.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
_HOLDS = sys.platform == "linux"


class PortInUse(RuntimeError):
    def __init__(self, port: int):
        super().__init__(f"port {port} is in use: stop what uses it or pick another with --port")
        self.port = port


class Reservation:
    """One port held for a server that binds it later; `port=0` lets the kernel choose a free one."""

    def __init__(self, port: int = 0, host: str = HOST):
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(port) from None
            raise
        self.port: int = self._socket.getsockname()[1]
        if not _HOLDS:
            self._socket.close()

    def release(self) -> None:
        self._socket.close()


class Reservations:
    """The ports of one stack: each is held until `release_all` (when the stack stops)."""

    def __init__(self) -> None:
        self._held: list[Reservation] = []

    def take(self, port: int = 0) -> int:
        reservation = Reservation(port)
        self._held.append(reservation)
        return reservation.port

    def release_all(self) -> None:
        for reservation in self._held:
            reservation.release()
        self._held.clear()


@contextmanager
def reserved_port(port: int = 0) -> Iterator[int]:
    """A port held for a server that another process starts inside the `with` block (tests, benchmarks)."""
    reservation = Reservation(port)
    try:
        yield reservation.port
    finally:
        reservation.release()
