"""Download a Messenger attachment to a spooled temporary file: streamed, capped, never whole in memory.

Up to `SPOOL_IN_MEMORY_BYTES` stays in memory (most photos); beyond that the spool moves to a file in
the temp dir (/tmp on Lambda, 512 MB by default). The cap is enforced twice: against the declared
Content-Length before reading, and against the bytes actually received while reading.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from chalicelib.messaging.errors import PermanentError, TransientError, check_http_status

SPOOL_IN_MEMORY_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024


class TooLarge(PermanentError):
    """The file is over the relay's limit."""


class AttachmentDownloader:
    def __init__(
        self,
        http: Any,
        max_bytes: int,
        timeout: tuple[float, float] = (3.05, 10.0),
        deadline_seconds: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._http = http
        self._max = max_bytes
        self._timeout = timeout
        # The relay runs inside Meta's webhook call: a CDN that trickles bytes must not hold it for long.
        self._deadline = deadline_seconds
        self._clock = clock

    @contextmanager
    def fetch(self, url: str) -> Iterator[tuple[BinaryIO, int]]:
        """Yield (file positioned at 0, size in bytes). The file is deleted on exit."""
        import requests

        if not url.startswith(("https://", "http://")):
            raise PermanentError("attachment_url_invalid")
        try:
            response = self._http.get(url, stream=True, timeout=self._timeout)
        except requests.RequestException:
            raise TransientError("attachment_download_failed") from None
        with response, tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spooled:
            spool = cast(BinaryIO, spooled)
            # Meta's CDN URLs expire: a 403/404 will not get better on retry.
            check_http_status(response.status_code, "attachment_download_failed", "attachment_download_refused")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self._max:
                raise TooLarge("attachment_too_large")
            size = self._copy(response, spool)
            if size == 0:
                raise PermanentError("attachment_empty")
            spool.seek(0)
            yield spool, size

    def _copy(self, response: Any, spool: BinaryIO) -> int:
        import requests

        size = 0
        give_up_at = self._clock() + self._deadline
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > self._max:
                    raise TooLarge("attachment_too_large")
                if self._clock() > give_up_at:
                    # Permanent on purpose: a retried webhook would be just as slow, for hours.
                    raise PermanentError("attachment_download_too_slow")
                spool.write(chunk)
        except requests.RequestException:
            raise TransientError("attachment_download_failed") from None
        return size
