"""Amazon Connect in-process for replay tests: boto3-shaped `connect` and `connectparticipant` clients over
the sandbox's chat model (sandbox/connect/model.py), so a replay exercises the real rules (ClientTokens,
expiring ConnectionTokens, AccessDenied once a chat ended) without HTTP or Stubber queues.

Every call is validated against botocore's service model first, as a Stubber would; service errors come
out as `botocore.exceptions.ClientError` with the code Connect uses.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from sandbox.connect.errors import ConnectError
from sandbox.connect.model import Chat, ConnectModel
from tests.support import boto3_session

UPLOAD_HOST = "https://connect-attachments.replay.test"


@dataclass
class Upload:
    attachment_id: str
    contact_id: str
    name: str
    content_type: str
    size: int
    body: bytes | None = None
    completed: bool = False


@dataclass
class ConnectDouble:
    instance_id: str
    contact_flow_id: str
    clock: Callable[[], float] = time.time
    published: list[dict] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.model = ConnectModel(
            self.instance_id,
            self.contact_flow_id,
            topic_exists=lambda arn: True,
            publish=lambda chat, item: self.published.append(item),
            clock=self.clock,
        )
        self._ids = itertools.count(1)
        self.connect = _Client("connect", self._connect_operation)
        self.participant = _Client("connectparticipant", self._participant_operation)

    # -- what the agent sees

    def chats(self) -> list[Chat]:
        return self.model.chats()

    def customer_items(self, contact_id: str) -> list[dict]:
        """Messages and attachments the customer participant (the bridge) put into one chat, in order."""
        chat = self.model.chat(contact_id)
        if chat is None:
            return []
        return [
            item
            for item in chat.items
            if item["ParticipantRole"] == "CUSTOMER" and item["Type"] in ("MESSAGE", "ATTACHMENT")
        ]

    def agent_view(self, contact_id: str) -> str:
        """The customer's side of the chat as one text: message contents and attachment names."""
        parts = []
        for item in self.customer_items(contact_id):
            if item.get("Content"):
                parts.append(item["Content"])
            for attachment in item.get("Attachments") or []:
                parts.append(f"[file {attachment['AttachmentName']} {attachment['ContentType']}]")
        return "\n".join(parts)

    # -- operations

    def _connect_operation(self, name: str, params: dict) -> dict:
        handlers = {
            "start_chat_contact": self.model.start_chat_contact,
            "start_contact_streaming": self.model.start_contact_streaming,
        }
        return handlers[name](params)

    def _participant_operation(self, name: str, params: dict) -> dict:
        params = dict(params)
        if name == "create_participant_connection":
            return self.model.create_participant_connection(params.pop("ParticipantToken", None), params)
        token = params.pop("ConnectionToken", None)
        simple = {
            "send_message": self.model.send_message,
            "send_event": self.model.send_event,
            "disconnect_participant": self.model.disconnect_participant,
        }
        if name in simple:
            return simple[name](token, params)
        participant, chat = self.model.connected(token)
        if name == "start_attachment_upload":
            attachment_id = f"attachment-{next(self._ids)}"
            self.uploads[attachment_id] = Upload(
                attachment_id,
                chat.contact_id,
                params["AttachmentName"],
                params["ContentType"],
                params["AttachmentSizeInBytes"],
            )
            return {
                "AttachmentId": attachment_id,
                "UploadMetadata": {
                    "Url": f"{UPLOAD_HOST}/{attachment_id}",
                    "UrlExpiry": "2099-01-01T00:00:00Z",
                    "HeadersToInclude": {"Content-Type": params["ContentType"]},
                },
            }
        if name == "complete_attachment_upload":
            for attachment_id in params["AttachmentIds"]:
                upload = self.uploads[attachment_id]
                if not upload.completed:
                    upload.completed = True
                    self.model.add_item(
                        chat,
                        participant,
                        "ATTACHMENT",
                        upload.content_type,
                        [
                            {
                                "AttachmentId": attachment_id,
                                "AttachmentName": upload.name,
                                "ContentType": upload.content_type,
                                "Status": "APPROVED",
                            }
                        ],
                    )
            return {}
        if name == "get_attachment":
            return {
                "Url": f"{UPLOAD_HOST}/{params['AttachmentId']}/download",
                "UrlExpiry": "2099-01-01T00:00:00Z",
                "AttachmentSizeInBytes": 1,
            }
        raise NotImplementedError(name)

    def receive_upload(self, attachment_id: str, body: bytes) -> None:
        self.uploads[attachment_id].body = body


@cache
def _real_client(service: str) -> Any:
    """One real client per service for its model and exception classes (building one costs ~100 ms)."""
    return boto3_session().client(service, region_name="us-east-1")


class _Client:
    """Looks like a boto3 client: snake_case operations taking keyword arguments."""

    def __init__(self, service: str, operation: Callable[[str, dict], dict]):
        real = _real_client(service)
        self._model = real.meta.service_model
        self._api_names = real.meta.method_to_api_mapping
        self._operation = operation
        self.exceptions = real.exceptions
        self.meta = real.meta

    def __getattr__(self, name: str) -> Callable[..., dict]:
        if name not in self._api_names:
            raise AttributeError(name)
        operation_model = self._model.operation_model(self._api_names[name])

        def call(**params: Any) -> dict:
            validate_parameters(params, operation_model.input_shape)
            try:
                return self._operation(name, params)
            except ConnectError as exc:
                raise ClientError(
                    {
                        "Error": {"Code": exc.code, "Message": "replay double"},
                        "ResponseMetadata": {"HTTPStatusCode": exc.response.status},
                    },
                    operation_model.name,
                ) from None

        return call
