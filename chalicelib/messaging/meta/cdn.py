"""Download a Messenger attachment to a spooled temporary file: checked, pinned, streamed, capped, on a deadline.

- Only URLs the `DownloadPolicy` accepts (https to Meta's CDN hosts, public addresses; download_policy.py),
  connected to the address that was checked (http.py `PinnedConnections`).
- Redirects are followed here, never by the HTTP client: each `Location` is checked like the first URL,
  at most `MAX_REDIRECTS` of them.
- One `Deadline` per webhook call bounds everything: connect and read timeouts are capped by what is left,
  every streamed read checks it, a `Retry-After` longer than what is left gives up at once, and a watchdog
  shuts the sockets when it passes (a server sending a byte at a time keeps each read short, never the whole).
- Size is capped twice: against the declared Content-Length before reading, and against the bytes received.
  Up to `SPOOL_IN_MEMORY_BYTES` stays in memory (most photos); beyond that the spool moves to the temp dir
  (/tmp on Lambda, 512 MB by default).

Every failure is a reason code (errors.py); the URL is never logged or put in an exception.
"""

from __future__ import annotations

import email.utils
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, cast
from urllib.parse import urljoin

from chalicelib.messaging.deadline import Deadline
from chalicelib.messaging.errors import PermanentError, TransientError, check_http_status
from chalicelib.messaging.http import PinnedConnections
from chalicelib.messaging.meta.download_policy import DownloadPolicy, DownloadRefused

SPOOL_IN_MEMORY_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 3
MAX_ATTEMPTS = 3  # per URL, for 429 / 5xx answers, within the deadline
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRIED = frozenset({429, 500, 502, 503, 504})


class TooLarge(PermanentError):
    """The file is over the relay's limit."""


class DeadlineExceeded(PermanentError):
    """The webhook call's time budget ran out during (or before) this download."""


class AttachmentDownloader:
    def __init__(
        self,
        policy: DownloadPolicy,
        max_bytes: int,
        timeout: tuple[float, float] = (3.05, 10.0),
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str = True,
    ):
        self._policy = policy
        self._max = max_bytes
        self._timeout = timeout
        self._sleep = sleep
        self._verify = verify  # a CA bundle path in tests

    @contextmanager
    def fetch(self, url: str, deadline: Deadline) -> Iterator[tuple[BinaryIO, int]]:
        """Yield (file positioned at 0, size in bytes). The file is deleted on exit."""
        if deadline.expired():
            raise DeadlineExceeded("attachment_deadline_exceeded")
        connections = PinnedConnections()
        watchdog = threading.Timer(deadline.remaining(), connections.cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            response = self._open(url, deadline, connections)
            with response, tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spooled:
                spool = cast(BinaryIO, spooled)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self._max:
                    raise TooLarge("attachment_too_large")
                size = self._copy(response, spool, deadline)
                if size == 0:
                    raise PermanentError("attachment_empty")
                spool.seek(0)
                yield spool, size
        finally:
            watchdog.cancel()
            connections.close()

    def _open(self, url: str, deadline: Deadline, connections: PinnedConnections) -> Any:
        """The final answer's response (200), after checked redirects and bounded retries."""
        target = self._policy.target(url)
        redirects = attempts = 0
        while True:
            response = self._get(target.url, self._policy.address(target), deadline, connections)
            status = response.status_code
            if status in _REDIRECTS and response.headers.get("Location"):
                location = urljoin(target.url, response.headers["Location"])
                response.close()
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise PermanentError("attachment_too_many_redirects")
                try:
                    target = self._policy.target(location)
                except DownloadRefused as refused:
                    raise DownloadRefused("attachment_redirect_refused", refused.reason) from None
                attempts = 0
                continue
            if status in _RETRIED:
                attempts += 1
                wait = _retry_after(response.headers.get("Retry-After"), default=0.5 * 2 ** (attempts - 1))
                response.close()
                if attempts >= MAX_ATTEMPTS:
                    raise TransientError("attachment_download_failed", str(status))
                if wait >= deadline.remaining():
                    # Meta's redelivery comes later than the budget we have left; it finds the claim released.
                    raise TransientError("attachment_retry_after_beyond_deadline", str(status))
                self._sleep(wait)
                continue
            try:
                # Meta's CDN URLs expire: a 403/404 will not get better on retry.
                check_http_status(status, "attachment_download_failed", "attachment_download_refused")
            except Exception:
                response.close()
                raise
            return response

    def _get(self, url: str, address: str, deadline: Deadline, connections: PinnedConnections) -> Any:
        import requests

        connect, read = self._timeout
        if deadline.expired():
            raise DeadlineExceeded("attachment_deadline_exceeded")
        try:
            return connections.session(address).get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=(max(0.001, deadline.cap(connect)), max(0.001, deadline.cap(read))),
                headers={"Accept-Encoding": "identity"},
                verify=self._verify,
            )
        except requests.RequestException:
            if deadline.expired():
                raise DeadlineExceeded("attachment_deadline_exceeded") from None
            raise TransientError("attachment_download_failed") from None

    def _copy(self, response: Any, spool: BinaryIO, deadline: Deadline) -> int:
        """Streamed reads of what has arrived (`read1`: never waits for a full chunk), each checked
        against the size cap and the deadline."""
        import requests
        import urllib3

        size = 0
        raw = response.raw
        try:
            while True:
                if deadline.expired():
                    # Permanent: a redelivered webhook would meet the same slow server, for hours.
                    raise DeadlineExceeded("attachment_deadline_exceeded")
                chunk = raw.read1(CHUNK_BYTES, decode_content=True)
                if not chunk:
                    return size
                size += len(chunk)
                if size > self._max:
                    raise TooLarge("attachment_too_large")
                spool.write(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
            if deadline.expired():
                raise DeadlineExceeded("attachment_deadline_exceeded") from None
            raise TransientError("attachment_download_failed") from None


def _retry_after(value: str | None, default: float) -> float:
    """Seconds a `Retry-After` asks for (delay-seconds or HTTP-date); `default` when absent or unreadable."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())
