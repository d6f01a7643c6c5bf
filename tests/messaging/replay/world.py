"""One deployment for replay tests: the real app through `chalice.test.Client`, moto for DynamoDB and
Secrets Manager, the in-process Connect double, and `responses` standing in for Meta's CDN and Graph API.

    with replay_world(monkeypatch) as world:
        reply = world.post(case.raw)
        world.agent_view()           # what the customer's side of every chat shows the agent
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import responses
from moto import mock_aws

from tests.messaging.fixtures import SECRET
from tests.messaging.replay.connect_double import UPLOAD_HOST, ConnectDouble
from tests.messaging.replay.corpus import served_accounts
from tests.sessions_table import create_sessions_table
from tests.support import LOCAL_STAGE, PROJECT_DIR, request_json

# The smallest valid PNG: what the CDN double serves for every media URL.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
# A customer's first message: it opens the chat that the replayed stream records are addressed to.
OPENING_WEBHOOK: dict[str, Any] = {
    "object": "page",
    "entry": [
        {
            "id": "PAGE_ID",
            "time": 1,
            "messaging": [
                {
                    "sender": {"id": "psid-replay-1"},
                    "recipient": {"id": "PAGE_ID"},
                    "timestamp": 1,
                    "message": {"mid": "m_replay_hello", "text": "hello"},
                }
            ],
        }
    ],
}
GRAPH_SEND = re.compile(r"https://graph\.(facebook|instagram)\.com/v[0-9.]+/[^/]+/messages")


def token_for(account_id: str) -> str:
    return "EAAB-token-for-" + hashlib.sha256(account_id.encode()).hexdigest()[:12]


@dataclass
class ReplayWorld:
    client: Any  # chalice.test.Client
    connect: ConnectDouble
    graph: responses.RequestsMock
    replies: list[Any] = field(default_factory=list)

    def post(self, raw: bytes, signature: str | None = None) -> Any:
        signature = signature or "sha256=" + hmac.new(SECRET["APP_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
        reply = self.client.http.post(
            "/webhook/messenger",
            body=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        )
        self.replies.append(reply)
        return reply

    def post_until_done(self, raw: bytes, attempts: int = 3) -> Any:
        """Meta's redelivery: a documented transient 5xx is retried; the last reply is returned."""
        reply = self.post(raw)
        for _ in range(attempts - 1):
            if reply.status_code not in (500, 503):
                break
            reply = self.post(raw)
        return reply

    def stream(self, *records: tuple[str, dict[str, Any]]) -> None:
        """Connect's streaming topic delivering `records` (message JSON, attributes) to connect_stream_handler."""
        from tests.messaging.stream_fixtures import sns_event

        self.client.lambda_.invoke("connect_stream_handler", sns_event(*records))

    def agent_items(self) -> list[dict]:
        return [item for chat in self.connect.chats() for item in self.connect.customer_items(chat.contact_id)]

    def agent_view(self) -> str:
        return "\n".join(self.connect.agent_view(chat.contact_id) for chat in self.connect.chats())

    def sent_to_customers(self) -> list[dict]:
        """Every body posted to a Send API, with the URL and bearer it went to."""
        calls = []
        for call in self.graph.calls:
            if GRAPH_SEND.match(call.request.url or ""):
                body = request_json(call.request) if call.request.body else {}
                calls.append(
                    {"url": call.request.url, "authorization": call.request.headers.get("Authorization"), "body": body}
                )
        return calls


@contextlib.contextmanager
def replay_world(
    monkeypatch,
    secret: dict[str, Any] | None = None,
    environment: dict[str, str] | None = None,
) -> Iterator[ReplayWorld]:
    """A fresh deployment for one test."""
    with replay_deployment(monkeypatch, secret, environment) as deployment:
        yield deployment.fresh()


class ReplayDeployment:
    """moto, the secret, the Chalice client and the web doubles, kept for many tests; `fresh()` gives each
    test an empty sessions table and a new Connect (a corpus replay then costs requests, not set-up)."""

    def __init__(self, client: Any, graph: responses.RequestsMock, doubles: dict[str, Any]):
        self._client, self._graph, self._doubles = client, graph, doubles
        self._connect: ConnectDouble | None = None

    def fresh(self) -> ReplayWorld:
        table = boto3.resource("dynamodb").Table(LOCAL_STAGE["SESSIONS_TABLE"])
        with table.batch_writer() as batch:
            for item in table.scan(ProjectionExpression="pk")["Items"]:
                batch.delete_item(Key={"pk": item["pk"]})
        self._connect = ConnectDouble(LOCAL_STAGE["CONNECT_INSTANCE_ID"], LOCAL_STAGE["CONNECT_CONTACT_FLOW_ID"])
        self._doubles.update(connect=self._connect.connect, connectparticipant=self._connect.participant)
        self._graph.calls.reset()
        return ReplayWorld(self._client, self._connect, self._graph)

    def upload(self, attachment_id: str, body: bytes) -> None:
        if self._connect is not None and attachment_id in self._connect.uploads:
            self._connect.receive_upload(attachment_id, body)


@contextlib.contextmanager
def replay_deployment(
    monkeypatch, secret: dict[str, Any] | None = None, environment: dict[str, str] | None = None
) -> Iterator[ReplayDeployment]:
    from chalice.test import Client

    from app import app
    from chalicelib import aws
    from chalicelib.messaging.meta import download_policy

    for key, value in (environment or {}).items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        create_sessions_table()
        document = (
            secret
            if secret is not None
            else {**SECRET, "PAGE_TOKENS": {account: token_for(account) for account in served_accounts()}}
        )
        boto3.client("secretsmanager").create_secret(
            Name=LOCAL_STAGE["MESSENGER_SECRET_ID"], SecretString=json.dumps(document)
        )
        # Meta's CDN names resolve to a public address here (no DNS in tests); `responses` serves the files.
        monkeypatch.setattr(download_policy, "system_resolver", lambda host, port: ["157.240.0.1"])
        real_client = aws.client
        doubles: dict[str, Any] = {}
        monkeypatch.setattr(aws, "client", lambda service: doubles.get(service) or real_client(service))
        with (
            responses.RequestsMock(assert_all_requests_are_fired=False) as graph,
            Client(app, stage_name="local", project_dir=str(PROJECT_DIR)) as client,
        ):
            deployment = ReplayDeployment(client, graph, doubles)
            _serve_meta_and_uploads(graph, deployment)
            yield deployment


def _serve_meta_and_uploads(graph: responses.RequestsMock, deployment: ReplayDeployment) -> None:
    def upload(request: Any) -> tuple[int, dict, bytes]:
        attachment_id = request.url.rsplit("/", 1)[-1]
        body = request.body if isinstance(request.body, bytes) else (request.body.read() if request.body else b"")
        deployment.upload(attachment_id, body)
        return 200, {}, b""

    def send(request: Any) -> tuple[int, dict, str]:
        body = json.loads(request.body or b"{}")
        recipient = (body.get("recipient") or {}).get("id", "")
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"recipient_id": recipient, "message_id": f"m_replay_{len(graph.calls)}"}),
        )

    graph.add_callback(responses.PUT, re.compile(re.escape(UPLOAD_HOST) + r"/.*"), callback=upload)
    graph.add_callback(responses.POST, GRAPH_SEND, callback=send)
    graph.add(
        responses.GET,
        re.compile(r"https?://(?!connect-attachments\.replay\.test).*"),
        body=PNG,
        content_type="image/png",
        headers={"Content-Length": str(len(PNG))},
    )
