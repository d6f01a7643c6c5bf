"""Runnable examples for docs/testing.md: each entry point through `chalice.test.Client`.

The page includes the sections between the `--8<--` markers, so what readers copy is what this suite runs.
Only public APIs are used (chalice, moto, boto3, the standard library): no project test helpers.
"""

# --8<-- [start:setup]
import hashlib
import hmac
import json
from pathlib import Path

import boto3
from chalice.test import Client
from moto import mock_aws

from app import app

# The folder holding .chalice/config.json: without it the client silently runs with no stage variables.
PROJECT_DIR = str(Path(__file__).resolve().parents[2])


def local_client() -> Client:
    """The `local` stage's environment variables apply only inside each client call."""
    return Client(app, stage_name="local", project_dir=PROJECT_DIR)


# --8<-- [end:setup]


# --8<-- [start:health]
def test_health_reports_the_version():
    with local_client() as client:
        response = client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body["status"] == "ok" and response.json_body["version"]


# --8<-- [end:health]


# --8<-- [start:webhook]
APP_SECRET = "example-app-secret"


def sign(body: bytes) -> str:
    """What Meta sends in X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


@mock_aws
def test_webhook_verifies_meta_and_refuses_forged_posts():
    # The secret the local stage names (MESSENGER_SECRET_ID), in moto's Secrets Manager.
    boto3.client("secretsmanager").create_secret(
        Name="connect-guard/messenger",
        SecretString=json.dumps({"APP_SECRET": APP_SECRET, "PAGE_TOKEN": "page-token", "VERIFY_TOKEN": "verify-me"}),
    )
    # A read receipt: signed and valid, but nothing to deliver, so no Connect call is made.
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "1",
                    "time": 1,
                    "messaging": [
                        {"sender": {"id": "2"}, "recipient": {"id": "1"}, "timestamp": 1, "read": {"watermark": 1}}
                    ],
                }
            ],
        }
    ).encode()

    with local_client() as client:
        verify = client.http.get("/webhook/messenger?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42")
        forged = client.http.post(
            "/webhook/messenger",
            body=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
        )
        signed = client.http.post(
            "/webhook/messenger",
            body=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)},
        )

    assert (verify.status_code, verify.body) == (200, b"42")
    assert forged.status_code == 403
    assert (signed.status_code, signed.body) == (200, b"EVENT_RECEIVED")


# --8<-- [end:webhook]


# --8<-- [start:stream]
@mock_aws
def test_stream_handler_acknowledges_an_agent_only_item():
    item = {
        "Id": "item-1",
        "Type": "MESSAGE",
        "ContentType": "text/plain",
        "Content": "internal note",
        "ParticipantRole": "AGENT",
        "InitialContactId": "contact-1",
        "ContactId": "contact-1",
        "AbsoluteTime": "2026-12-06T03:00:00.000Z",
    }
    attributes = {
        "MessageVisibility": {"Type": "String", "Value": "AGENT"},
        "ParticipantRole": {"Type": "String", "Value": "AGENT"},
    }

    with local_client() as client:
        event = client.events.generate_sns_event(message=json.dumps(item), message_attributes=attributes)
        response = client.lambda_.invoke("connect_stream_handler", event)

    assert response.payload is None  # no exception: the record is acknowledged, never sent to the customer


# --8<-- [end:stream]


# --8<-- [start:scanner]
@mock_aws
def test_scanner_rejects_an_executable_named_pdf():
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="attachments")
    key = "connect/instance/Attachments/chat/2026/12/06/file-1_20261206T03:00_UTC.pdf"
    s3.put_object(Bucket="attachments", Key=key, Body=b"MZ\x90\x00" + bytes(60))  # a Windows executable
    event = {
        "Version": "1.0",
        "InstanceId": "instance",
        "File": {
            "FileId": "file-1",
            "FileCreationTime": 1796526000000,
            "FileName": "invoice.pdf",
            "FileSizeInBytes": 64,
            "FileLocation": {
                "S3Location": {"Bucket": "attachments", "Key": key, "Arn": f"arn:aws:s3:::attachments/{key}"}
            },
        },
    }

    with local_client() as client:
        response = client.lambda_.invoke("attachment_scanner", event)

    assert response.payload == {"Status": "REJECTED"}


# --8<-- [end:scanner]


# --8<-- [start:ivr]
FIXTURE = Path(PROJECT_DIR) / "tests" / "fixtures" / "connect-encrypted-input"  # a real Connect ciphertext (MIT)


@mock_aws
def test_ivr_decryptor_decrypts_what_connect_encrypted():
    boto3.client("ssm").put_parameter(
        Name="/connect-guard/ivr-keys/a5ecd749-4bd8-4a94-bfde-27eefe4f12b1",  # IVR_KEYS_PATH + the Connect key id
        Value=(FIXTURE / "test.private.key").read_text(),
        Type="SecureString",
    )
    event = {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {"ContactId": "contact-1", "Channel": "VOICE"},
            "Parameters": {"EncryptedValue": (FIXTURE / "ciphertext.b64").read_text().strip()},
        },
    }

    with local_client() as client:
        result = client.lambda_.invoke("ivr_decryptor", event).payload

    assert result["Status"] == "OK" and result["Length"] == "12" and result["Last4"] == "7789"


# --8<-- [end:ivr]
