"""An emulator of the Graph Send API: what the customer's Messenger receives.

It checks what Meta checks — the page token (Authorization header or body, never logged), the
`appsecret_proof` the sample app's "Require App Secret" setting demands, a known recipient PSID,
`messaging_type`, text under 2,000 characters — answers with Graph's error envelope, and fetches
attachment URLs when the message is sent, as Meta does, keeping a copy for the customer pane.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from sandbox.httpkit import HttpError, Request, Response, Router

TEXT_LIMIT = 2000
MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"}
SENDER_ACTIONS = {"typing_on", "typing_off", "mark_seen"}
MEDIA_LIMIT = 25 * 1024 * 1024


@dataclass
class Delivered:
    message_id: str
    psid: str
    at: float
    text: str | None = None
    sender_action: str | None = None
    attachment_type: str | None = None
    content_type: str | None = None
    messaging_type: str | None = None
    tag: str | None = None
    quick_replies: list[str] = field(default_factory=list)

    def view(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if value not in (None, [])}


class GraphEmulator:
    def __init__(self, page_token: str | tuple[str, ...], app_secret: str):
        # One token per Page / Instagram account served (the secret's PAGE_TOKENS); any of them may send.
        self._page_tokens = (page_token,) if isinstance(page_token, str) else tuple(page_token)
        self._app_secret = app_secret
        self._lock = threading.Lock()
        self._psids: set[str] = set()
        self._media: dict[str, tuple[bytes, str]] = {}
        self.delivered: list[Delivered] = []
        self.rejected: list[dict] = []  # Graph errors answered, for the page and the tests

    def register_customer(self, psid: str) -> None:
        """A person who messaged the Page: the only recipients Graph accepts."""
        with self._lock:
            self._psids.add(psid)

    def media(self, message_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._media.get(message_id)

    def messages_for(self, psid: str) -> list[Delivered]:
        with self._lock:
            return [message for message in self.delivered if message.psid == psid]

    def router(self) -> Router:
        routes = Router()
        routes.add("POST", "/{version}/me/messages", self._send)
        routes.add("POST", "/{version}/{page_id}/messages", self._send)
        return routes

    # ------------------------------------------------------------------------------------- Send API

    def _send(self, request: Request) -> Response:
        try:
            body = self._body(request)
            self._authorise(request, body)
            delivered = self._deliver(body)
        except HttpError as error:
            with self._lock:
                self.rejected.append({"at": time.time(), **json.loads(error.response.body)["error"]})
            raise
        with self._lock:
            self.delivered.append(delivered)
        answer = {"recipient_id": delivered.psid}
        if delivered.sender_action is None:
            answer["message_id"] = delivered.message_id
        return Response.json(answer)

    def _body(self, request: Request) -> dict:
        content_type = request.headers.get("Content-Type") or ""
        if content_type.startswith("application/json"):
            body = request.json()
        else:  # form-encoded: JSON-valued fields arrive as strings
            body = {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
            for key in ("recipient", "message"):
                if isinstance(body.get(key), str):
                    try:
                        body[key] = json.loads(body[key])
                    except ValueError:
                        raise _graph_error(100, "Invalid parameter") from None
        if not isinstance(body, dict):
            raise _graph_error(100, "Invalid parameter")
        # appsecret_proof and access_token may also come as query parameters.
        return {**{k: v for k, v in request.query.items() if k in ("appsecret_proof", "access_token")}, **body}

    def _authorise(self, request: Request, body: dict) -> None:
        header = request.headers.get("Authorization") or ""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else body.get("access_token")
        if not token:
            raise _graph_error(2500, "An active access token must be used to query information about the current user.")
        known = [candidate for candidate in self._page_tokens if hmac.compare_digest(str(token), candidate)]
        if not known:
            raise _graph_error(190, "Invalid OAuth access token - Cannot parse access token", status=401)
        expected = hmac.new(self._app_secret.encode(), known[0].encode(), hashlib.sha256).hexdigest()
        proof = body.get("appsecret_proof")
        if not proof:
            raise _graph_error(100, "API calls from the server require an appsecret_proof argument")
        if not hmac.compare_digest(str(proof), expected):
            raise _graph_error(100, "Invalid appsecret_proof provided in the API argument")

    def _deliver(self, body: dict) -> Delivered:
        recipient = body.get("recipient") or {}
        psid = str(recipient.get("id", "")) if isinstance(recipient, dict) else ""
        with self._lock:
            known = psid in self._psids
        if not known:
            raise _graph_error(100, "No matching user found", subcode=2018001)
        delivered = Delivered(f"m_{uuid.uuid4().hex}", psid, time.time())
        action = body.get("sender_action")
        if action is not None:
            if action not in SENDER_ACTIONS or "message" in body:
                raise _graph_error(100, "Invalid sender_action")
            delivered.sender_action = action
            return delivered
        messaging_type = body.get("messaging_type")
        if messaging_type not in MESSAGING_TYPES:
            raise _graph_error(100, "(#100) messaging_type is required and must be RESPONSE, UPDATE or MESSAGE_TAG")
        if messaging_type == "MESSAGE_TAG" and not body.get("tag"):
            raise _graph_error(100, "(#100) tag is required with MESSAGE_TAG")
        delivered.messaging_type, delivered.tag = messaging_type, body.get("tag")
        message = body.get("message")
        if not isinstance(message, dict):
            raise _graph_error(100, "(#100) message is required")
        if "text" in message:
            text = message["text"]
            if not isinstance(text, str) or not text.strip():
                raise _graph_error(100, "(#100) text must be a non-empty string")
            if len(text) >= TEXT_LIMIT:
                raise _graph_error(100, "(#100) Length of param message[text] must be less than or equal to 2000")
            delivered.text = text
        elif "attachment" in message:
            self._fetch_attachment(message["attachment"], delivered)
        else:
            raise _graph_error(100, "(#100) message must have text or attachment")
        replies = message.get("quick_replies") or []
        delivered.quick_replies = [str(reply.get("title", "")) for reply in replies if isinstance(reply, dict)]
        return delivered

    def _fetch_attachment(self, attachment: Any, delivered: Delivered) -> None:
        if not isinstance(attachment, dict) or attachment.get("type") not in ("image", "audio", "video", "file"):
            raise _graph_error(100, "(#100) attachment type must be image, audio, video or file")
        url = (attachment.get("payload") or {}).get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _graph_error(100, "(#100) attachment payload url is required")
        try:  # Meta downloads the file when the message is sent
            with urllib.request.urlopen(url, timeout=10) as answer:
                data = answer.read(MEDIA_LIMIT + 1)
                content_type = answer.headers.get("Content-Type", "application/octet-stream")
        except Exception:
            raise _graph_error(100, "(#100) Failed to fetch the file from the url", subcode=2018008) from None
        if len(data) > MEDIA_LIMIT:
            raise _graph_error(100, "(#100) Attachment size exceeds the allowable limit", subcode=2018047)
        delivered.attachment_type, delivered.content_type = attachment["type"], content_type
        with self._lock:
            self._media[delivered.message_id] = (data, content_type)


def _graph_error(code: int, message: str, subcode: int | None = None, status: int = 400) -> HttpError:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": uuid.uuid4().hex[:11],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return HttpError(status, {"error": error})
