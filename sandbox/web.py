"""The front server on :8000: the sandbox page and its API under /sandbox/, the app behind it.

Everything outside /sandbox/ (but `/`, which redirects to the page) is proxied byte for byte to
`chalice local` (the real routes, e.g. /webhook/messenger and /health), so the app serves exactly what it
would serve alone. Under `make local` the same API runs without the page (`page=False`): `chalice local` owns
the public port and `tools/messenger_send.py` reads what the agent received from `/sandbox/api/state`.
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from urllib.parse import urlsplit

from sandbox.connect.attachments import AttachmentService
from sandbox.connect.model import CHAT_ENDED, JOINED, LEFT, ConnectModel
from sandbox.connect.streaming import StreamDelivery
from sandbox.customer import CHANNELS, DEFAULT_IGSID, DEFAULT_PSID, MetaCustomers
from sandbox.graph import GraphEmulator
from sandbox.httpkit import HttpError, Request, Response, Router
from sandbox.ivr_panel import IvrPanel
from sandbox.webchat import WebChat

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
}
MAX_FILE_BYTES = 25 * 1024 * 1024
TYPING_SECONDS = 20  # Messenger clears a typing indicator after 20 s


class SandboxSite:
    def __init__(
        self,
        app_url: str,
        model: ConnectModel,
        attachments: AttachmentService,
        stream: StreamDelivery,
        graph: GraphEmulator,
        customers: MetaCustomers,
        ivr: IvrPanel,
        s3,
        bucket: str,
        page: bool = True,
        webchat: WebChat | None = None,
    ):
        app = urlsplit(app_url)
        if not app.hostname:
            raise ValueError(f"app_url has no host: {app_url}")
        self._app_host, self._app_port = app.hostname, app.port
        self._page = page
        self._model = model
        self._attachments = attachments
        self._stream = stream
        self._graph = graph
        self._customers = customers
        self._ivr = ivr
        self._s3 = s3
        self._bucket = bucket
        self.ivr_results: list[dict] = []
        self._webchat = webchat

    def router(self) -> Router:
        routes = Router(fallback=self._proxy)
        if self._page:
            routes.add("GET", "/", lambda r: Response(302, b"", {"Location": "/sandbox/"}))
            routes.add("GET", "/sandbox", lambda r: Response(308, b"", {"Location": "/sandbox/"}))
            routes.add("GET", "/sandbox/", lambda r: _static("index.html"))
            routes.add("GET", "/sandbox/static/{name}", lambda r: _static(r.params["name"]))
            routes.add("GET", "/favicon.ico", lambda r: _static("favicon.svg"))
        routes.add("POST", "/sandbox/api/customer/register", self._customer_register)
        routes.add("GET", "/sandbox/api/state", self._state)
        routes.add("POST", "/sandbox/api/customer/message", self._customer_message)
        routes.add("POST", "/sandbox/api/customer/file", self._customer_file)
        routes.add("POST", "/sandbox/api/customer/resend", self._customer_resend)
        routes.add("POST", "/sandbox/api/agent/message", self._agent_message)
        routes.add("POST", "/sandbox/api/agent/typing", self._agent_typing)
        routes.add("POST", "/sandbox/api/agent/file", self._agent_file)
        routes.add("POST", "/sandbox/api/agent/end", self._agent_end)
        routes.add("POST", "/sandbox/api/ivr", self._ivr_run)
        routes.add("POST", "/sandbox/api/webchat/start", self._webchat_start)
        routes.add("POST", "/sandbox/api/webchat/message", self._webchat_message)
        routes.add("POST", "/sandbox/api/webchat/failure", self._webchat_failure)
        routes.add("POST", "/sandbox/api/expire-tokens", self._expire_tokens)
        routes.add("POST", "/sandbox/api/stream/redeliver", self._redeliver)
        routes.add("GET", "/sandbox/cdn/{token}/{name}", self._cdn)
        routes.add("GET", "/sandbox/media/{message_id}", self._media)
        routes.add("GET", "/sandbox/agent-files/{attachment_id}", self._agent_file_download)
        return routes

    # ------------------------------------------------------------------------------------- customer (Messenger)

    def _customer_message(self, request: Request) -> Response:
        body = request.json()
        channel = str(body.get("channel") or "messenger")
        if channel not in CHANNELS:
            raise HttpError(400, {"message": "channel is messenger or instagram"})
        default = DEFAULT_IGSID if channel == "instagram" else DEFAULT_PSID
        text, psid = body.get("text"), str(body.get("psid") or default)
        if not isinstance(text, str) or not text.strip():
            raise HttpError(400, {"message": "text is required"})
        self._graph.register_customer(psid)
        sent = self._customers.send_text(psid, text, channel)
        return Response.json({"mid": sent.mid, "webhook_status": sent.status, "attempts": sent.attempts})

    def _customer_register(self, request: Request) -> Response:
        """A customer who writes to the webhook directly (`tools/messenger_send.py`): Graph must know the PSID."""
        psid = str(request.json().get("psid") or DEFAULT_PSID)
        self._graph.register_customer(psid)
        return Response.json({"psid": psid})

    def _customer_file(self, request: Request) -> Response:
        name, psid = request.query.get("name") or "file", request.query.get("psid") or DEFAULT_PSID
        if not request.body or len(request.body) > MAX_FILE_BYTES:
            raise HttpError(400, {"message": "a file of 1 byte to 25 MB is required"})
        self._graph.register_customer(psid)
        content_type = request.headers.get("Content-Type") or "application/octet-stream"
        sent = self._customers.send_file(psid, name, content_type, request.body)
        return Response.json({"mid": sent.mid, "webhook_status": sent.status, "attempts": sent.attempts})

    def _customer_resend(self, request: Request) -> Response:
        sent = self._customers.resend(str(request.json().get("mid") or ""))
        if sent is None:
            raise HttpError(404, {"message": "no such message"})
        return Response.json({"mid": sent.mid, "webhook_status": sent.status, "attempts": sent.attempts})

    def _cdn(self, request: Request) -> Response:
        found = self._customers.cdn_file(request.params["token"])
        if found is None:
            raise HttpError(404, {"message": "URL signature expired"})
        return Response(200, found.data, {"Content-Type": found.content_type})

    def _media(self, request: Request) -> Response:
        found = self._graph.media(request.params["message_id"])
        if found is None:
            raise HttpError(404, {"message": "no such media"})
        return Response(200, found[0], {"Content-Type": found[1]})

    # ------------------------------------------------------------------------------------- agent (Connect)

    def _contact(self, body: dict) -> str:
        contact_id = body.get("contact_id")
        if contact_id:
            return str(contact_id)
        chat = self._model.latest_active()
        if chat is None:
            raise HttpError(409, {"message": "no active chat: the customer has to write first"})
        return chat.contact_id

    def _agent_message(self, request: Request) -> Response:
        body = request.json()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise HttpError(400, {"message": "text is required"})
        content_type = body.get("content_type") or "text/plain"
        if content_type not in ("text/plain", "text/markdown"):
            raise HttpError(400, {"message": "content_type must be text/plain or text/markdown"})
        item = self._model.agent_message(self._contact(body), text, content_type)
        return Response.json({"id": item["Id"]})

    def _agent_typing(self, request: Request) -> Response:
        item = self._model.agent_typing(self._contact(request.json()))
        return Response.json({"id": item["Id"]})

    def _agent_file(self, request: Request) -> Response:
        if not request.body or len(request.body) > MAX_FILE_BYTES:
            raise HttpError(400, {"message": "a file of 1 byte to 25 MB is required"})
        contact_id = self._contact(dict(request.query))
        attachment = self._attachments.agent_upload(
            contact_id,
            request.query.get("name") or "file",
            request.headers.get("Content-Type") or "application/octet-stream",
            request.body,
        )
        return Response.json({"attachment_id": attachment.attachment_id, "status": attachment.status})

    def _agent_end(self, request: Request) -> Response:
        contact_id = self._contact(request.json())
        self._model.agent_end_chat(contact_id)
        return Response.json({"ended": contact_id})

    def _agent_file_download(self, request: Request) -> Response:
        found = [a for a in self._attachments.all() if a.attachment_id == request.params["attachment_id"]]
        if not found or found[0].status != "APPROVED":
            raise HttpError(404, {"message": "no such approved attachment"})
        body = self._s3.get_object(Bucket=self._bucket, Key=found[0].final_key)["Body"].read()
        return Response(200, body, {"Content-Type": found[0].content_type})

    def _redeliver(self, request: Request) -> Response:
        if not self._stream.redeliver(str(request.json().get("item_id") or "")):
            raise HttpError(404, {"message": "no such streamed item"})
        return Response.json({"redelivered": True})

    def _expire_tokens(self, request: Request) -> Response:
        return Response.json({"expired": self._model.expire_connection_tokens()})

    # ------------------------------------------------------------------------------------- IVR

    def warm_up_ivr(self) -> None:
        if self._ivr.available():
            self._ivr.run("0000")

    def _ivr_run(self, request: Request) -> Response:
        if not self._ivr.available():
            raise HttpError(503, {"message": "the IVR decryptor is not part of this build yet"})
        digits = str(request.json().get("digits") or "")
        result = self._ivr.run(digits)
        if "error" in result:
            raise HttpError(400, {"message": result["error"]})
        self.ivr_results.append(result)
        return Response.json(result)

    # ------------------------------------------------------------------------------------- web chat (message processor)

    def _web(self) -> WebChat:
        if self._webchat is None:
            raise HttpError(503, {"message": "web chat is not part of this build"})
        return self._webchat

    def _webchat_start(self, request: Request) -> Response:
        return Response.json(self._web().start())

    def _webchat_message(self, request: Request) -> Response:
        body = request.json()
        text, content_type = body.get("text"), body.get("content_type") or "text/plain"
        if not isinstance(text, str) or not text.strip():
            raise HttpError(400, {"message": "text is required"})
        return Response.json(self._web().customer_message(text, str(content_type)))

    def _webchat_failure(self, request: Request) -> Response:
        body = request.json()
        return Response.json(self._web().set_failure(body.get("failure_mode"), body.get("broken")))

    # ------------------------------------------------------------------------------------- state for the page

    def _state(self, request: Request) -> Response:
        psid = request.query.get("psid") or DEFAULT_PSID
        return Response.json(
            {
                "psid": psid,
                "customer": self._customer_view(psid),
                "customer_typing": self._customer_typing(psid),
                "contacts": [self._contact_view(chat) for chat in self._model.chats()],
                "active_contact": getattr(self._model.latest_active(), "contact_id", None),
                "connect_calls": dict(self._model.calls),
                "stream": {
                    status: sum(1 for d in self._stream.deliveries if d.status == status)
                    for status in ("QUEUED", "DELIVERED", "FAILED", "NOT_SUBSCRIBED")
                },
                "graph_errors": self._graph.rejected[-5:],
                "ivr": self.ivr_results[-5:],
                "ivr_available": self._ivr.available(),
                "webchat": self._webchat.view() if self._webchat is not None else None,
            }
        )

    def _customer_view(self, psid: str) -> list[dict]:
        entries = []
        for sent in self._customers.sent:
            if sent.psid == psid:
                entries.append(
                    {
                        "from": "customer",
                        "at": sent.at,
                        "text": sent.text,
                        "attachment": sent.attachment,
                        "webhook_status": sent.status,
                        "mid": sent.mid,
                    }
                )
        for delivered in self._graph.messages_for(psid):
            if delivered.sender_action is None:
                entry = {
                    "from": "page",
                    "at": delivered.at,
                    "text": delivered.text,
                    "mid": delivered.message_id,
                    "messaging_type": delivered.messaging_type,
                    "quick_replies": delivered.quick_replies,
                }
                if delivered.attachment_type:
                    entry["attachment"] = {
                        "type": delivered.attachment_type,
                        "content_type": delivered.content_type,
                        "url": f"/sandbox/media/{delivered.message_id}",
                    }
                entries.append(entry)
        return sorted(entries, key=lambda entry: entry["at"])

    def _customer_typing(self, psid: str) -> bool:
        last = None
        for delivered in self._graph.messages_for(psid):
            last = delivered
        return bool(last and last.sender_action == "typing_on" and time.time() - last.at < TYPING_SECONDS)

    def _contact_view(self, chat) -> dict:
        items = []
        for item in chat.items:
            role, content_type = item["ParticipantRole"], item["ContentType"]
            view = {"id": item["Id"], "at": item["AbsoluteTime"], "role": role}
            if item["Type"] == "MESSAGE":
                items.append({**view, "kind": "message", "text": item["Content"]})
            elif item["Type"] == "ATTACHMENT":
                attachment = item["Attachments"][0]
                link = (
                    f"/sandbox/agent-files/{attachment['AttachmentId']}" if attachment["Status"] == "APPROVED" else None
                )
                items.append(
                    {
                        **view,
                        "kind": "attachment",
                        "name": attachment["AttachmentName"],
                        "content_type": attachment["ContentType"],
                        "status": attachment["Status"],
                        "url": link,
                    }
                )
            elif content_type in (JOINED, LEFT, CHAT_ENDED):
                words = {JOINED: "joined", LEFT: "left", CHAT_ENDED: "chat ended"}[content_type]
                text = words if content_type == CHAT_ENDED else f"{role.lower()} {words}"
                items.append({**view, "kind": "event", "text": text})
        statuses = {entry["item_id"]: entry["status"] for entry in chat.processing if "item_id" in entry}
        for item in items:
            if item["id"] in statuses:
                item["processing"] = statuses[item["id"]]
        return {
            "contact_id": chat.contact_id,
            "ended": chat.ended,
            "end_reason": chat.end_reason,
            "display_name": chat.customer.display_name,
            "attributes": chat.attributes,
            "items": items,
            "channel": chat.channel,
            "processor": chat.processor is not None,
        }

    # ------------------------------------------------------------------------------------- the app

    def _proxy(self, request: Request) -> Response:
        connection = http.client.HTTPConnection(self._app_host, self._app_port, timeout=60)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            connection.request(request.method, request.raw_path, body=request.body or None, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
        except OSError:
            raise HttpError(502, {"message": "chalice local is not answering"}) from None
        finally:
            connection.close()
        return Response(answer.status, body, {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP})


def _static(name: str) -> Response:
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or path.suffix not in STATIC_TYPES or not path.is_file():
        raise HttpError(404, {"message": "not found"})
    return Response(200, path.read_bytes(), {"Content-Type": STATIC_TYPES[path.suffix], "Cache-Control": "no-store"})
