"""The one pooled HTTP session behind Graph and Connect's presigned URLs; pinned sessions for Meta's CDN.

urllib3 `Retry` on a `requests.Session` (DESIGN.md: a well-kept library rather than our own loop).
`requests` is imported when the session is first built, never on `import app`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


def build_session(total_retries: int = 3, backoff_factor: float = 0.5) -> Any:
    """A `requests.Session` retrying 5xx, 429 and connection failures with backoff (POST included)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=total_retries,
        connect=total_retries,
        # A POST that timed out after sending may have been delivered: never resent. `False`, not 0: with 0,
        # urllib3 wraps the read timeout in MaxRetryError and requests raises a ConnectionError, which reads
        # as "never sent" and was retried (a duplicate agent reply in `make chaos`); False re-raises the read
        # timeout itself, which requests raises as `ReadTimeout` (issue 17).
        read=False,
        status=total_retries,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "POST", "PUT"}),
        backoff_factor=backoff_factor,
        backoff_max=8,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class PinnedConnections:
    """HTTP sessions that connect to an address checked beforehand (meta/download_policy.py), never to what
    DNS answers at connect time, so nothing can change between the check and the connection; TLS still sends
    the URL's host name as SNI and verifies the certificate against it, and the Host header names it.

    No retries, no redirects (the caller follows them after checking each), no proxies or .netrc from the
    environment. `cut()` shuts every socket these sessions opened, now and later: the webhook deadline's
    watchdog, which ends a read that a server keeps alive a byte at a time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._sessions: list[Any] = []
        self._cut = False
        self.connections = 0  # sockets opened (tests count work with it)

    def session(self, address: str) -> Any:
        """A `requests.Session` whose every request connects to `address`."""
        import requests

        session = requests.Session()
        session.trust_env = False
        adapter = _pinned_adapter(address, self._opened)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        with self._lock:
            self._sessions.append(session)
        return session

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
            sockets, self._sockets = self._sockets, []
        for session in sessions:
            session.close()
        for sock in sockets:
            sock.close()

    def _opened(self, sock: socket.socket) -> None:
        # A duplicate descriptor of the connection: TLS wraps (and detaches) the original, the duplicate
        # still reaches the connection (for the handshake too) and is ours to close.
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            self.connections += 1
            cut = self._cut
        if cut:
            _shut(duplicate)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _pinned_adapter(address: str, opened: Callable[[socket.socket], None]) -> Any:
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Connection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            opened(sock)
            return sock

    class TlsConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            opened(sock)
            return sock

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = TlsConnection

    class PinnedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

        def build_connection_pool_key_attributes(
            self, request: Any, verify: Any, cert: Any = None
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
            name = host_params["host"]
            if host_params["scheme"] == "https":
                pool_kwargs = {**pool_kwargs, "server_hostname": name, "assert_hostname": name}
            return {**host_params, "host": address}, pool_kwargs

        def add_headers(self, request: Any, **kwargs: Any) -> None:
            # http.client would name the pinned address; the server (and its certificate) knows the name.
            request.headers["Host"] = urlsplit(request.url).netloc

    return PinnedAdapter(max_retries=0)
