"""Graph Send API client: text, quick replies, attachments by URL and typing, to one Messenger customer.

Every call ends in exactly one of two ways (docs/reference/graph-send-api.md):
- a `SendResult`: delivered, or refused for good with a reason code (outside the window, unknown user,
  bad token, policy block...). The caller logs it and moves on; retrying would not help.
- `GraphUnavailable` raised: throttled or failing on Meta's side after our own retries. The caller lets
  the Lambda invocation fail so SNS/Lambda retries the record later.

Transport retries (HTTP 5xx, 429, connection errors) are urllib3 `Retry` on a `requests.Session`; Graph's
own "try again" codes (613, 4, 1, 2, 1200), which arrive as HTTP 400, are retried here with backoff.
The page token travels in the `Authorization` header and `appsecret_proof` in the query string: neither
the token nor anything derived from a message ever appears in a URL, a log line or an exception message.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.logs import get_logger, log_event
from chalicelib.messaging.http import build_session
from chalicelib.messaging.meta.address import CustomerAddress

log = get_logger("messenger")

RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# Meta fetches attachment URLs itself; images by URL are capped lower than other files.
MAX_IMAGE_URL_BYTES = 8 * 1024 * 1024
MAX_ATTACHMENT_URL_BYTES = 25 * 1024 * 1024

# Graph error codes that mean "not now" rather than "never".
_TRANSIENT_GRAPH_CODES = frozenset({1, 2, 4, 17, 32, 613, 1200})
# Permanent refusals, by (code, subcode) first and code second. Anything unlisted is permanent too,
# reported as `graph_error_<code>`: an unknown refusal must be seen in the logs, not retried for hours.
_PERMANENT_REASONS = {
    (10, 2018278): "outside_window",
    (10, 2018065): "outside_window",
    (10, 2018108): "outside_window",
    (100, 2018001): "unknown_recipient",
    (100, 2018008): "attachment_fetch_failed",
    (100, 2018047): "attachment_fetch_failed",
    (100, 2018294): "attachment_fetch_failed",
}
_PERMANENT_CODE_REASONS = {
    10: "permission_denied",
    100: "invalid_parameter",
    190: "invalid_token",
    200: "permission_denied",
    230: "permission_denied",
    10903: "messaging_disabled",
    10904: "messaging_disabled",
    551: "recipient_unavailable",
    368: "policy_blocked",
}


# A send whose answer did not arrive in time (read timeout): maybe delivered, never resent.
UNCONFIRMED = "graph_timeout_unconfirmed"
UNCONFIRMED_STATUS = -1


class GraphUnavailable(Exception):
    """Meta is throttling or failing: retry the whole record later. The message is a reason code only."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SendResult:
    delivered: bool
    reason: str = "sent"
    message_id: str = ""
    code: int | None = None
    subcode: int | None = None


@dataclass(frozen=True)
class Delivery:
    """How a message may be sent now: `messaging_type` and the tag it needs, or why it may not."""

    messaging_type: str | None
    tag: str | None = None
    skip_reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.messaging_type is not None

    @property
    def in_response_window(self) -> bool:
        return self.messaging_type == "RESPONSE"


def delivery_for(last_customer_message: datetime | None, now: datetime, human_agent_tag: bool) -> Delivery:
    """RESPONSE within 24 h of the customer's last message; HUMAN_AGENT up to 7 days when enabled."""
    if last_customer_message is not None:
        age = now - last_customer_message
        if age <= RESPONSE_WINDOW:
            return Delivery("RESPONSE")
        if age <= HUMAN_AGENT_WINDOW and human_agent_tag:
            return Delivery("MESSAGE_TAG", tag="HUMAN_AGENT")
        if age <= HUMAN_AGENT_WINDOW:
            return Delivery(None, skip_reason="outside_window_tag_disabled")
    return Delivery(None, skip_reason="outside_window")


def attachment_kind(content_type: str) -> str:
    """Messenger's attachment type for a MIME type."""
    major = content_type.split("/", 1)[0].lower()
    return major if major in ("image", "video", "audio") else "file"


# The credentials provider returns (token, app_secret) for an account (a Page or Instagram account id, None for
# a single-Page deployment); with refresh=True it rereads the secret.
Credentials = Callable[..., tuple[str, str]]


class MessengerClient:
    def __init__(
        self,
        graph_api_url: str,
        credentials: Credentials,
        *,
        session: Any = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        graph_retries: int = 2,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._url = graph_api_url.rstrip("/") + "/me/messages"
        self._credentials = credentials
        self._session = session
        self._timeout = timeout
        self._graph_retries = graph_retries
        self._backoff = backoff_seconds
        self._sleep = sleep

    # ------------------------------------------------------------------------------------- public calls

    def send_text(self, psid: str, text: str, delivery: Delivery, quick_replies: Iterable[Any] = ()) -> SendResult:
        message: dict[str, Any] = {"text": text}
        replies = [{"content_type": "text", "title": r.title, "payload": r.payload} for r in quick_replies]
        if replies:
            message["quick_replies"] = replies
        return self._send_message(psid, message, delivery, "text")

    def send_attachment_url(self, psid: str, kind: str, url: str, delivery: Delivery) -> SendResult:
        message = {"attachment": {"type": kind, "payload": {"url": url, "is_reusable": False}}}
        return self._send_message(psid, message, delivery, kind)

    def send_template(self, psid: str, attachment: dict, delivery: Delivery) -> SendResult:
        """A structured message (the generic template a Connect carousel becomes)."""
        return self._send_message(psid, {"attachment": attachment}, delivery, "template")

    def send_typing(self, psid: str) -> SendResult:
        address = CustomerAddress.parse(psid)
        return self._post(
            {"recipient": address.recipient(), "sender_action": "typing_on"}, "typing_on", address.account_id
        )

    # ------------------------------------------------------------------------------------- transport

    def _send_message(self, psid: str, message: dict, delivery: Delivery, kind: str) -> SendResult:
        # `psid` is the session's customer id: the account it wrote to and the recipient (meta/address.py).
        address = CustomerAddress.parse(psid)
        body: dict[str, Any] = {
            "recipient": address.recipient(),
            "messaging_type": delivery.messaging_type,
            "message": message,
        }
        if delivery.tag:
            body["tag"] = delivery.tag
        return self._post(body, kind, address.account_id)

    def _post(self, body: dict, kind: str, account: str | None = None) -> SendResult:
        refreshed = False
        attempt = 0
        token, secret = self._credentials(account=account)
        while True:
            status, payload = self._request(body, token, secret)
            if status == UNCONFIRMED_STATUS:
                log_event(log, "graph_send_unconfirmed", logging.WARNING, kind=kind)
                return SendResult(delivered=False, reason=UNCONFIRMED)
            result = _classify(status, payload)
            if isinstance(result, SendResult):
                if result.reason == "invalid_token" and not refreshed:
                    refreshed = True  # the secret may have been rotated since we cached it: reread once
                    token, secret = self._credentials(refresh=True, account=account)
                    continue
                if result.reason == "invalid_token":
                    # Still refused after rereading the secret: a rotation half done (Meta revoked the old
                    # token before the secret holds the new one, or our reread was rate limited). Retried
                    # later (Lambda's retries, then the dead-letter queue), never dropped (issue 17).
                    _log_result(result, kind, payload)
                    raise GraphUnavailable("graph_token_rejected")
                _log_result(result, kind, payload)
                return result
            if result.reason.startswith("graph_code_") and attempt < self._graph_retries:
                self._sleep(self._backoff * (2**attempt))
                attempt += 1
                continue
            log_event(
                log,
                "graph_send_transient",
                logging.WARNING,
                kind=kind,
                reason=result.reason,
                attempts=attempt + 1,
                **_error_fields(payload),
            )
            raise result

    def _request(self, body: dict, token: str, secret: str) -> tuple[int, Any]:
        import requests

        proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        try:
            response = self._http().post(
                self._url,
                params={"appsecret_proof": proof},
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._timeout,
            )
        except requests.ConnectTimeout:
            raise GraphUnavailable("graph_unreachable") from None  # never sent: safe to retry
        except requests.Timeout:
            # Sent, and no answer in time: Graph may have delivered it, and it has no idempotency key. Not
            # resent (the whole SNS event used to be retried, and the customer got the message twice):
            # the part is recorded as unconfirmed and the rest of the message goes on (issue 17).
            return UNCONFIRMED_STATUS, None
        except requests.ConnectionError as exc:
            if _read_timed_out(exc):  # a session whose Retry wraps the read timeout: the same ambiguity
                return UNCONFIRMED_STATUS, None
            raise GraphUnavailable("graph_unreachable") from None
        except requests.RequestException:
            raise GraphUnavailable("graph_unreachable") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return response.status_code, payload

    def _http(self) -> Any:
        if self._session is None:
            self._session = build_session()
        return self._session


def _read_timed_out(exc: BaseException) -> bool:
    """True when a ConnectionError is urllib3's MaxRetryError around a read timeout (sent, unanswered)."""
    from urllib3.exceptions import MaxRetryError, ReadTimeoutError

    reason = exc.args[0] if exc.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, ReadTimeoutError)


def _classify(status: int, payload: Any) -> SendResult | GraphUnavailable:
    error = payload.get("error") if isinstance(payload, dict) else None
    if 200 <= status < 300 and not isinstance(error, dict):
        message_id = payload.get("message_id", "") if isinstance(payload, dict) else ""
        return SendResult(delivered=True, message_id=message_id if isinstance(message_id, str) else "")
    code, subcode = _int(error, "code"), _int(error, "error_subcode")
    if status == 429 or status >= 500:
        return GraphUnavailable(f"graph_http_{status}")
    if code in _TRANSIENT_GRAPH_CODES:
        return GraphUnavailable(f"graph_code_{code}")
    if code is None:
        return SendResult(delivered=False, reason=f"graph_http_{status}")
    reason = (
        (_PERMANENT_REASONS.get((code, subcode)) if subcode is not None else None)
        or _PERMANENT_CODE_REASONS.get(code)
        or f"graph_error_{code}"
    )
    return SendResult(delivered=False, reason=reason, code=code, subcode=subcode)


def _int(error: Any, key: str) -> int | None:
    value = error.get(key) if isinstance(error, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _error_fields(payload: Any) -> dict[str, Any]:
    """Graph's error identifiers, safe to log: codes and the trace id, never its message."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return {}
    trace = error.get("fbtrace_id")
    return {
        "code": _int(error, "code"),
        "subcode": _int(error, "error_subcode"),
        "fbtrace_id": trace if isinstance(trace, str) else None,
    }


def _log_result(result: SendResult, kind: str, payload: Any) -> None:
    if result.delivered:
        log_event(log, "graph_sent", logging.DEBUG, kind=kind)
    elif result.reason == "invalid_token":
        # The page token is wrong or revoked: every send fails until someone fixes the secret.
        log_event(log, "graph_token_rejected", logging.CRITICAL, kind=kind, **_error_fields(payload))
    else:
        log_event(log, "graph_send_refused", logging.WARNING, kind=kind, reason=result.reason, **_error_fields(payload))
