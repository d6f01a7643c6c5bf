"""Meta's side of the conversation: the sandbox customer's messages as signed webhook POSTs.

Each message becomes the envelope Meta sends (docs/reference/messenger-webhook.md#envelope), signed with the app secret over
the exact bytes posted. Like Meta, a non-200 answer is retried with the same body. Files the customer
attaches are served from a local stand-in for Meta's CDN, whose URLs expire.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from sandbox.meta_post import PAGE_ID, envelope, post, signature

INSTAGRAM_ACCOUNT_ID = "17841400000000001"  # the Instagram professional account linked to the Page
DEFAULT_PSID = "7000000000000001"
DEFAULT_IGSID = "8000000000000001"  # an Instagram-scoped user id
# The webhook `object` and the account a customer of each channel writes to.
CHANNELS = {"messenger": ("page", PAGE_ID), "instagram": ("instagram", INSTAGRAM_ACCOUNT_ID)}
RETRY_DELAYS = (0.5, 1.0)  # Meta retries for hours; two quick retries show the behaviour
CDN_URL_SECONDS = 600


@dataclass
class Sent:
    mid: str
    psid: str
    at: float
    text: str | None = None
    attachment: dict | None = None
    status: int = 0
    attempts: int = 0
    channel: str = "messenger"


@dataclass
class CdnFile:
    data: bytes
    content_type: str
    expires_at: float


@dataclass
class MetaCustomers:
    webhook_url: str
    app_secret: str
    cdn_base_url: str
    sent: list[Sent] = field(default_factory=list)
    _cdn: dict[str, CdnFile] = field(default_factory=dict)
    _bodies: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_text(self, psid: str, text: str, channel: str = "messenger") -> Sent:
        sent = Sent(f"m_{uuid.uuid4().hex}", psid, time.time(), text=text, channel=channel)
        return self._post(sent, {"text": text})

    def send_file(self, psid: str, name: str, content_type: str, data: bytes) -> Sent:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._cdn[token] = CdnFile(data, content_type, time.time() + CDN_URL_SECONDS)
        kind = next((k for k in ("image", "video", "audio") if content_type.startswith(k + "/")), "file")
        url = f"{self.cdn_base_url}/{token}/{_safe(name)}"
        attachment = {"type": kind, "payload": {"url": url}}
        # The customer's own view keeps the name they chose and the file itself, as Messenger shows it to them.
        sent = Sent(
            f"m_{uuid.uuid4().hex}",
            psid,
            time.time(),
            attachment={"type": kind, "name": name, "content_type": content_type, "url": url},
        )
        return self._post(sent, {"attachments": [attachment]})

    def resend(self, mid: str) -> Sent | None:
        """Post a message's webhook delivery again, byte for byte: Meta redelivers after a timeout."""
        with self._lock:
            found = next((sent for sent in self.sent if sent.mid == mid), None)
            body = self._bodies.get(mid)
        if found is None or body is None:
            return None
        found.status = post(self.webhook_url, body, signature(self.app_secret, body)).status
        found.attempts += 1
        return found

    def cdn_file(self, token: str) -> CdnFile | None:
        with self._lock:
            found = self._cdn.get(token)
        return found if found is not None and found.expires_at > time.time() else None

    def _post(self, sent: Sent, message: dict) -> Sent:
        with self._lock:
            self.sent.append(sent)
        webhook_object, account = CHANNELS.get(sent.channel, CHANNELS["messenger"])
        body = envelope(sent.psid, sent.mid, message, int(sent.at * 1000), webhook_object, account)
        signed = signature(self.app_secret, body)
        with self._lock:
            self._bodies[sent.mid] = body
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            sent.attempts += 1
            sent.status = post(self.webhook_url, body, signed).status
            if sent.status == 200:
                break
        return sent


def _safe(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[-80:]
    return cleaned or "file"
