"""A small world for outbound tests: moto DynamoDB with the real session store and dedupe log, the real
Graph client against `responses`, a Stubber-validated Connect Participant client, and the relay built
from them exactly as production wires it (minus the settings cache)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import boto3
import responses

from chalicelib.messaging.connect.attachments import ConnectAttachments
from chalicelib.messaging.connect.chat import ConnectChat
from chalicelib.messaging.http import build_session
from chalicelib.messaging.meta.send_api import MessengerClient
from chalicelib.messaging.outbound import OutboundPolicy, OutboundRelay
from chalicelib.messaging.store.dedupe import DedupeLog
from chalicelib.messaging.store.sessions import ChatSession, SessionStore
from chalicelib.redaction.redactor import build_redactor
from chalicelib.settings import RedactionSettings, _Reader
from tests.messaging.fixtures import FLOW_ID, INSTANCE_ID, SECRET, TOPIC_ARN, stubbed_client
from tests.sessions_table import SESSIONS_TABLE
from tests.support import request_json, request_url

GRAPH = "https://graph.facebook.com/v25.0"
SEND_URL = GRAPH + "/me/messages"
PARTICIPANT_TOKEN = "participant-token-canary-3c1d"
CONNECTION_TOKEN = "connection-token-canary-8e2f"


@dataclass
class World:
    graph: responses.RequestsMock
    outbound_pii: str = ""
    human_agent_tag: bool = False
    sleeps: list = field(default_factory=list)

    def __post_init__(self):
        self.db = boto3.client("dynamodb")
        self.store = SessionStore(self.db, SESSIONS_TABLE)
        self.dedupe = DedupeLog(self.db, SESSIONS_TABLE)
        self.participant, self.stub = stubbed_client("connectparticipant")
        self.stub.activate()
        self.chat = ConnectChat(None, self.participant, INSTANCE_ID, FLOW_ID, TOPIC_ARN, 1500)
        self.relay = self.build()

    def build(self, **policy: Any) -> OutboundRelay:
        http = build_session(backoff_factor=0)
        messenger = MessengerClient(
            GRAPH,
            lambda refresh=False, account=None: (SECRET["PAGE_TOKEN"], SECRET["APP_SECRET"]),
            session=http,
            sleep=self.sleeps.append,
        )
        redaction = RedactionSettings.parse(_Reader({"PII_OUTBOUND_ENTITY_TYPES": self.outbound_pii}))
        return OutboundRelay(
            sessions=self.store,
            dedupe=self.dedupe,
            messenger=messenger,
            attachments=ConnectAttachments(self.participant, http),
            connection=self.chat,
            redactor=build_redactor(redaction, direction="outbound"),
            policy=OutboundPolicy(human_agent_tag=self.human_agent_tag, **policy),
        )

    def seed(
        self,
        contact_id: str = "contact-1",
        psid: str = "24000000000000001",
        last_message_age: float = 60,
        connection_valid_for: float = 3600,
    ) -> ChatSession:
        """An active chat as the inbound path records it."""
        now = time.time()
        assert self.store.claim_start("messenger", psid, f"start-{contact_id}", now, 30, None) or True
        record = self.store.customer("messenger", psid, now)
        assert record is not None and record.start_token is not None
        session = ChatSession(
            channel="messenger",
            customer_id=psid,
            contact_id=contact_id,
            participant_token=PARTICIPANT_TOKEN,
            connection_token=CONNECTION_TOKEN,
            connection_expires_at=now + connection_valid_for,
            last_customer_message_at=now - last_message_age,
            expires_at=int(now + 86400),
        )
        assert self.store.activate(session, record.start_token, record.version, now)
        return session

    def sent(self) -> list[dict]:
        """Every body posted to the Send API, in order."""
        return [
            request_json(call.request) for call in self.graph.calls if request_url(call.request).startswith(SEND_URL)
        ]

    def texts(self) -> list[str]:
        return [body["message"]["text"] for body in self.sent() if "text" in body.get("message", {})]

    def graph_ok(self, times: int = 1) -> None:
        for _ in range(times):
            self.graph.post(SEND_URL, json={"recipient_id": "x", "message_id": "m_out"})

    def graph_error(self, code: int, subcode: int | None = None, status: int = 400) -> None:
        error = {"message": "msg", "type": "OAuthException", "code": code, "fbtrace_id": "TraceX1"}
        if subcode:
            error["error_subcode"] = subcode
        self.graph.post(SEND_URL, json={"error": error}, status=status)
