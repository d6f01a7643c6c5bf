"""A tiny JSON-over-HTTP toolkit on the standard library: routes, JSON bodies, error answers.

The emulators are small and single-purpose; a web framework would cost more start-up time than
the code it saves.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Any  # email.message.Message: case-insensitive .get()
    body: bytes
    raw_path: str = ""  # path with its query string, as received
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise HttpError(400, {"message": "body is not JSON"}) from None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


class HttpError(Exception):
    """Answered as `status` with a JSON body; `headers` lets AWS emulators set x-amzn-ErrorType."""

    def __init__(self, status: int, payload: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.response = Response.json(payload, status, headers)


Handler = Callable[[Request], Response]


class Router:
    """Method + path pattern (`{name}` captures one segment) -> handler."""

    def __init__(self, fallback: Handler | None = None) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._fallback = fallback

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method, re.compile(f"^{regex}$"), handler))

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match:
                allowed = True
                if method == request.method:
                    request.params = match.groupdict()
                    return handler(request)
        if self._fallback is not None and not allowed:
            return self._fallback(request)
        raise HttpError(405 if allowed else 404, {"message": "no such route"})


def serve(name: str, host: str, port: int, router: Router) -> ThreadingHTTPServer:
    """Start a threaded server for `router` in a daemon thread; port 0 picks a free one."""

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = name

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every answer.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(Response.json({"message": "body too large"}, 413))
                return
            body = self.rfile.read(length) if length else b""
            query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            request = Request(self.command, split.path, query, self.headers, body, self.path)
            try:
                response = router.dispatch(request)
            except HttpError as exc:
                response = exc.response
            except Exception as exc:  # an emulator bug must answer, not hang the caller
                response = Response.json({"message": f"emulator error: {type(exc).__name__}"}, 500)
            try:
                self._send(response)
            except (BrokenPipeError, ConnectionResetError):
                # The caller gave up first (its timeout, or a fault `make chaos` injected): no one to answer.
                self.close_connection = True

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the page shows what happens
            pass

    server = ThreadingHTTPServer((host, port), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True).start()
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    assert isinstance(host, str)  # bytes only for AF_UNIX servers; serve() binds AF_INET
    return f"http://{host}:{port}"
