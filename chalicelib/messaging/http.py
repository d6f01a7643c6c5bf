"""The one pooled HTTP session behind Graph, Meta's CDN and Connect's presigned URLs.

urllib3 `Retry` on a `requests.Session` (DESIGN.md: a well-kept library rather than our own loop).
`requests` is imported when the session is first built, never on `import app`.
"""

from __future__ import annotations

from typing import Any


def build_session(total_retries: int = 3, backoff_factor: float = 0.5) -> Any:
    """A `requests.Session` retrying 5xx, 429 and connection failures with backoff (POST included)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=total_retries,
        connect=total_retries,
        read=0,  # a POST that timed out after sending may have been delivered: no blind resend
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
