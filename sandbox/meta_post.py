"""One signed webhook delivery, as Meta makes it: the envelope of one messaging item, its
`X-Hub-Signature-256` over the exact bytes, and the POST (docs/reference/messenger-webhook.md#envelope,
#signature).

The one implementation behind the sandbox customer (sandbox/customer.py), `make chaos` (sandbox/chaos.py) and
`python -m tools.messenger_send`. Standard library only: the tool runs in the `make local` environment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PAGE_ID = "100000000000001"  # the sandbox's Page
USER_AGENT = "facebookexternalua"


def envelope(
    psid: str, mid: str, message: Mapping[str, Any], now_ms: int, webhook_object: str = "page", account: str = PAGE_ID
) -> bytes:
    """The bytes Meta posts for one message item (`message` without its `mid`) from `psid` to `account`."""
    body = {
        "object": webhook_object,
        "entry": [
            {
                "id": account,
                "time": now_ms,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": account},
                        "timestamp": now_ms,
                        "message": {"mid": mid, **message},
                    }
                ],
            }
        ],
    }
    # Meta escapes non-ASCII as \uXXXX and signs exactly the bytes it sends.
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode()


def signature(app_secret: str | bytes, body: bytes) -> str:
    """`X-Hub-Signature-256`: HMAC-SHA256 of the exact body with the app secret."""
    key = app_secret.encode() if isinstance(app_secret, str) else app_secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    status: int  # 0: nothing answered (refused, reset, timed out)
    body: bytes = b""
    error: str | None = None  # the exception's class name when nothing answered


def post(url: str, body: bytes, signed: str, timeout: float = 30.0) -> Answer:
    """POST `body` with its signature `signed` (from `signature`); never raises for the network."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signed, "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, answer.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        return Answer(0, error=type(getattr(exc, "reason", None) or exc).__name__)
