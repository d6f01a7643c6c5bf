"""Reusable helpers for messaging tests: the Messenger secret in moto, stubbed Connect clients, signed webhook
payloads (the sessions table: tests/sessions_table.py). Plain functions (not fixtures) so any test module can
compose them.

    with mock_aws():
        create_sessions_table()
        create_messenger_secret()
        ...
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from typing import Any

from tests.support import boto3_session

SECRET_ID = "connect-guard/messenger"
SECRET = {
    "APP_SECRET": "app-secret-canary-7f3a",
    "PAGE_TOKEN": "EAAB-page-token-canary-91c2",
    "VERIFY_TOKEN": "verify-token-canary-55e1",
}
PAGE_ID = "1122334455"
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
FLOW_ID = "66666666-7777-8888-9999-000000000000"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:connect-guard-chat-stream"


# ------------------------------------------------------------------------------------------ AWS (inside mock_aws)


def create_messenger_secret(values: dict[str, str] | None = None, secret_id: str = SECRET_ID) -> None:
    import boto3

    boto3.client("secretsmanager").create_secret(Name=secret_id, SecretString=json.dumps(values or SECRET))


def rotate_messenger_secret(values: dict[str, str], secret_id: str = SECRET_ID) -> None:
    import boto3

    boto3.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(values))


# ------------------------------------------------------------------------------------------ Connect (Stubber)


def stubbed_client(service: str):
    """A real botocore client for `service` and its Stubber (which validates every request against the
    service model). Use as `client, stub = stubbed_client("connectparticipant")`."""
    from botocore.stub import Stubber

    client = boto3_session().client(service, region_name="us-east-1")
    return client, Stubber(client)


@contextlib.contextmanager
def connect_stubbed_behind_aws(monkeypatch):
    """`aws.client("connect")` and `aws.client("connectparticipant")` become Stubbed clients (every other
    service stays real, e.g. moto's). Yields (connect stub, participant stub); on a clean exit, every
    queued response must have been used."""
    from chalicelib import aws

    connect, connect_stub = stubbed_client("connect")
    participant, participant_stub = stubbed_client("connectparticipant")
    real_client = aws.client
    stubs = {"connect": connect, "connectparticipant": participant}
    monkeypatch.setattr(aws, "client", lambda service: stubs.get(service) or real_client(service))
    with connect_stub, participant_stub:
        yield connect_stub, participant_stub
        connect_stub.assert_no_pending_responses()
        participant_stub.assert_no_pending_responses()


def start_chat_response(contact_id: str = "contact-1", participant_token: str = "participant-token-1") -> dict:
    return {
        "ContactId": contact_id,
        "ParticipantId": f"participant-of-{contact_id}",
        "ParticipantToken": participant_token,
    }


def connection_response(token: str = "connection-token-1", expires_in: float = 86400) -> dict:
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in))
    return {"ConnectionCredentials": {"ConnectionToken": token, "Expiry": expiry}}


# ------------------------------------------------------------------------------------------ Messenger payloads


def sign(body: bytes, app_secret: str = SECRET["APP_SECRET"]) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(*items: dict, standby: bool = False, page_id: str = PAGE_ID) -> dict:
    key = "standby" if standby else "messaging"
    return {"object": "page", "entry": [{"id": page_id, "time": 1458692752478, key: list(items)}]}


def body_of(payload: dict) -> bytes:
    # Meta escapes non-ASCII as \uXXXX; json.dumps does the same by default.
    return json.dumps(payload).encode()


def item(psid: str = "psid-1", timestamp: int | str = 1458692752478, **kind: Any) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": timestamp, **kind}


def text_item(text: str, mid: str = "m_1", psid: str = "psid-1", **extra: Any) -> dict:
    return item(psid, message={"mid": mid, "text": text, **extra})


def echo_item(text: str = "hello from the page", mid: str = "m_echo", psid: str = "psid-1") -> dict:
    echo = item(PAGE_ID, message={"mid": mid, "text": text, "is_echo": True, "app_id": 1517776481860111})
    echo["recipient"] = {"id": psid}
    return echo
