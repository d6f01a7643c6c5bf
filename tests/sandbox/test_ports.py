"""Port reservations (sandbox/ports.py): held ports stay ours until the server that needs them binds."""

from __future__ import annotations

import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.ports import HOST, PortInUse, Reservation, Reservations, reserved_port
from sandbox.stack import Options, Ports, Stack


def _plain_bind(port: int) -> None:
    with socket.socket() as other:
        other.bind((HOST, port))


def test_a_reserved_port_is_refused_to_any_other_socket():
    with reserved_port() as port:
        with pytest.raises(OSError):
            _plain_bind(port)
    _plain_bind(port)  # released: free again


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


def test_ports_taken_together_are_distinct_and_all_released():
    book = Reservations()
    ports = [book.take() for _ in range(8)]
    assert len(set(ports)) == 8
    book.release_all()
    for port in ports:
        _plain_bind(port)


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
