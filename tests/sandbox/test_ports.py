"""Port reservations (sandbox/ports.py): held ports stay ours until the server that needs them binds."""

from __future__ import annotations

import socket
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.ports import HOST, PortInUse, Reservation, Reservations, reserved_port
from sandbox.stack import Options, Ports, Stack


def _plain_bind(port: int) -> None:
    with socket.socket() as other:
        other.bind((HOST, port))


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="ports are held on Linux only (sandbox/ports.py)")


@linux_only
def test_a_reserved_port_is_refused_to_any_other_socket():
    with reserved_port() as port:
        with pytest.raises(OSError):
            _plain_bind(port)


def test_a_server_binds_and_answers_on_a_reserved_port():
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    with reserved_port() as port:
        server = ThreadingHTTPServer((HOST, port), Hello)
        try:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            with urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=5) as answer:
                assert answer.status == 204
        finally:
            server.shutdown()
            server.server_close()


def test_ports_taken_together_are_distinct():
    book = Reservations()
    try:
        assert len({book.take() for _ in range(8)}) == 8
    finally:
        book.release_all()


@linux_only
def test_the_stack_holds_every_port_from_its_choice_until_it_stops():
    """The CI failure: a port chosen free, released, and taken by another socket before its server bound it."""
    stack = Stack(Options(ports=Ports(front=0), faults=object()))
    ports = vars(stack.reserve_ports())
    try:
        assert all(ports.values()) and len(set(ports.values())) == len(ports)
        for port in ports.values():
            with pytest.raises(OSError):
                _plain_bind(port)
    finally:
        stack.stop()


def test_a_port_that_cannot_be_bound_for_another_reason_says_so():
    with pytest.raises(OSError) as raised:
        Reservation(0, host="192.0.2.1")  # TEST-NET-1: not an address of this machine
    assert not isinstance(raised.value, PortInUse)


def test_a_port_a_server_listens_on_cannot_be_reserved():
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} is in use.*--port"):
            Reservation(port)


def test_the_stack_names_a_busy_port_before_starting_anything():
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        port = listener.getsockname()[1]
        stack = Stack(Options(ports=Ports(front=port)))
        try:
            with pytest.raises(PortInUse):
                stack.start()
            assert stack._processes == [] and stack._servers == []
        finally:
            stack.stop()
