"""A hostile "CDN" on 127.0.0.1 for the download tests: real TLS with a test CA (so SNI, certificate checks
and the pinned connection are exercised), routes that redirect, trickle, or ask to retry later, and counters
of the work done (requests per path, bytes written) for the assertions.

The certificate names `cdn.test`, `*.cdn.test` and `evil.test`; the tests' resolver maps every name to
127.0.0.1 (nothing of this reaches real DNS), and their address policy allows loopback for it only.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NAMES = ("cdn.test", "*.cdn.test", "evil.test")

Route = Callable[["Handler"], None]


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate chain, server key) written to `directory`."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connect-guard test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAMES[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in NAMES]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, chain_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, chain_path, key_path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostileCdn.Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        cdn = self.server.cdn
        path = self.path.split("?", 1)[0]
        with cdn.lock:
            cdn.hits[path] += 1
            cdn.hosts.append(self.headers.get("Host", ""))
            route = cdn.routes.get(path)
        if route is None:
            self.answer(404, b"")
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # the client hung up: what the deadline does

    def answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.write(body)

    def write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        with self.server.cdn.lock:
            self.server.cdn.sent[self.path.split("?", 1)[0]] += len(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HostileCdn:
    class Server(ThreadingHTTPServer):
        daemon_threads = True
        cdn: HostileCdn

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a refused handshake or a client that hung up: what several tests do on purpose

    def __init__(self, chain: Path, key: Path):
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.hosts: list[str] = []
        self.lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        self._server = self.Server(("127.0.0.1", 0), Handler)
        self._server.cdn = self
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str, host: str = "cdn.test") -> str:
        return f"https://{host}:{self.port}{path}"

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.hits.clear()
            self.sent.clear()
            self.hosts.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ------------------------------------------------------------------------------------------------ routes


def serve(body: bytes, content_type: str = "image/png") -> Route:
    return lambda h: h.answer(200, body, Content_Type=content_type)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: h.answer(status, b"", Location=location)


def retry_after(seconds: str, status: int = 503) -> Route:
    return lambda h: h.answer(status, b"", Retry_After=seconds)


def trickle(declared: int, pause: float, on_chunk: Callable[[], None] = lambda: None, chunk: bytes = b"x") -> Route:
    """A 200 declaring `declared` bytes, then `chunk` every `pause` seconds until the client hangs up or
    the body is complete; `on_chunk` runs after each (a test's clock moves with the server)."""

    def route(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(declared))
        h.end_headers()
        h.wfile.flush()
        written = 0
        while written < declared:
            piece = chunk[: declared - written]
            h.write(piece)
            written += len(piece)
            on_chunk()
            time.sleep(pause)

    return route


def trickle_headers(pause: float, limit: int) -> Route:
    """A status line, then a header one byte every `pause` seconds (at most `limit` bytes): no read ever
    waits long, the response never starts."""

    def route(h: Handler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        h.wfile.flush()
        for _ in range(limit):
            h.write(b"a")
            time.sleep(pause)

    return route


def loopback_only_for_tests(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """The tests' address policy: 127.0.0.1 (this server) allowed, everything else as in production."""
    from chalicelib.messaging.meta.download_policy import public_only

    return None if address == ipaddress.IPv4Address("127.0.0.1") else public_only(address)
