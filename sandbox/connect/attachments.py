"""Chat attachments as Connect handles them: presigned upload, FILE_SCANNER, presigned download.

StartAttachmentUpload answers a presigned PUT URL on this emulator that insists on exactly the
`HeadersToInclude` it gave out (as S3's signature would); the bytes land under the instance's
staging prefix in the (moto) attachments bucket. CompleteAttachmentUpload moves them to the final
key and invokes `attachment_scanner` with Connect's FILE_SCANNER event; REJECTED files are deleted
from both places, and an ATTACHMENT item carrying the decision goes onto the chat stream.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from sandbox.connect.errors import ConnectError, validation
from sandbox.connect.model import Chat, ConnectModel, Participant, iso
from sandbox.lambdas import Invoker

SCANNER = "attachment_scanner"
SCAN_TIME_LIMIT_SECONDS = 60.0  # Connect's hard limit; errors are retried up to 3 times within it
SCAN_ATTEMPTS = 3
UPLOAD_URL_SECONDS = 300
# The instance's attachment configuration (Connect's defaults, docs/reference/file-scanner.md).
ALLOWED_EXTENSIONS = frozenset(
    [
        "csv",
        "doc",
        "docx",
        "heic",
        "jfif",
        "jpeg",
        "jpg",
        "mov",
        "mp4",
        "pdf",
        "png",
        "ppt",
        "pptx",
        "rtf",
        "txt",
        "wav",
        "xls",
        "xlsx",
    ]
)
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class Attachment:
    attachment_id: str
    contact_id: str
    participant: Participant
    name: str
    content_type: str
    size: int
    created_at: float
    staging_key: str
    final_key: str = ""
    uploaded: bool = False
    status: str = "PENDING_UPLOAD"  # PENDING_UPLOAD | IN_PROGRESS | APPROVED | REJECTED
    scan_detail: str = ""

    @property
    def extension(self) -> str:
        return PurePosixPath(self.name).suffix.lower()


class AttachmentService:
    def __init__(self, model: ConnectModel, s3: Any, bucket: str, prefix: str, invoker: Invoker, public_url: str):
        self._model = model
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix
        self._invoker = invoker
        self._public_url = public_url.rstrip("/")
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._attachments: dict[str, Attachment] = {}
        self._idempotent: dict[tuple[str, ...], dict] = {}

    # ------------------------------------------------------------------------------------- participant API

    def start_upload(self, connection_token: str | None, request: dict) -> dict:
        self._model.count("StartAttachmentUpload")
        participant, chat = self._model.connected(connection_token)
        token = request.get("ClientToken")
        if not isinstance(token, str) or not 1 <= len(token) <= 500:
            raise validation("ClientToken must be 1-500 characters")
        with self._lock:
            remembered = self._idempotent.get(("start", participant.participant_id, token))
            if remembered is not None:
                return remembered
        return self._start(participant, chat, request, token)

    def complete_upload(self, connection_token: str | None, request: dict) -> dict:
        self._model.count("CompleteAttachmentUpload")
        participant, chat = self._model.connected(connection_token)
        ids = request.get("AttachmentIds")
        token = request.get("ClientToken")
        if not isinstance(ids, list) or len(ids) != 1:
            raise validation("AttachmentIds must hold exactly one id")
        if not isinstance(token, str) or not 1 <= len(token) <= 500:
            raise validation("ClientToken must be 1-500 characters")
        with self._lock:
            if ("complete", participant.participant_id, token) in self._idempotent:
                return {}
            attachment = self._attachments.get(ids[0])
            if attachment is None or attachment.participant is not participant:
                raise validation("Attachment not found")
            if attachment.status == "IN_PROGRESS":
                raise ConnectError("ConflictException", "The attachment is already being processed")
            if attachment.status != "PENDING_UPLOAD":
                raise validation("The attachment upload was already completed")
            if not attachment.uploaded:
                raise validation("The attachment was not uploaded")
            attachment.status = "IN_PROGRESS"
        self._finish(chat, attachment)
        with self._lock:
            self._idempotent[("complete", participant.participant_id, token)] = {}
        return {}

    def get_attachment(self, connection_token: str | None, request: dict) -> dict:
        self._model.count("GetAttachment")
        participant, chat = self._model.connected(connection_token)
        seconds = request.get("UrlExpiryInSeconds", 300)
        if not isinstance(seconds, int) or not 5 <= seconds <= 300:
            raise validation("UrlExpiryInSeconds must be 5-300")
        with self._lock:
            attachment = self._attachments.get(request.get("AttachmentId") or "")
        if attachment is None or attachment.contact_id != chat.contact_id or attachment.status != "APPROVED":
            raise validation("Attachment not found")
        expires = time.time() + seconds
        return {
            "Url": self._signed_url("download", attachment.attachment_id, expires),
            "UrlExpiry": iso(expires),
            "AttachmentSizeInBytes": attachment.size,
        }

    # ------------------------------------------------------------------------------------- presigned URLs

    def put_object(self, attachment_id: str, query: dict, headers: Any, body: bytes) -> None:
        attachment = self._verified("upload", attachment_id, query)
        if headers.get("Content-Type") != attachment.content_type:
            raise _s3_error(403, "SignatureDoesNotMatch", "Content-Type differs from HeadersToInclude")
        if len(body) != attachment.size:
            raise _s3_error(403, "SignatureDoesNotMatch", "Content-Length differs from AttachmentSizeInBytes")
        self._s3.put_object(
            Bucket=self._bucket, Key=attachment.staging_key, Body=body, ContentType=attachment.content_type
        )
        with self._lock:
            attachment.uploaded = True

    def get_object(self, attachment_id: str, query: dict) -> tuple[bytes, str, str]:
        attachment = self._verified("download", attachment_id, query)
        if attachment.status != "APPROVED":
            raise _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        body = self._s3.get_object(Bucket=self._bucket, Key=attachment.final_key)["Body"].read()
        return body, attachment.content_type, attachment.name

    # ------------------------------------------------------------------------------------- the agent (sandbox page)

    def agent_upload(self, contact_id: str, name: str, content_type: str, body: bytes) -> Attachment:
        chat = self._model.chat(contact_id)
        if chat is None or chat.ended or chat.agent is None:
            raise validation("no active chat with an agent for this contact")
        request = {"AttachmentName": name, "ContentType": content_type, "AttachmentSizeInBytes": len(body)}
        started = self._start(chat.agent, chat, request, str(uuid.uuid4()))
        with self._lock:
            attachment = self._attachments[started["AttachmentId"]]
        self._s3.put_object(Bucket=self._bucket, Key=attachment.staging_key, Body=body, ContentType=content_type)
        with self._lock:
            attachment.uploaded, attachment.status = True, "IN_PROGRESS"
        self._finish(chat, attachment)
        return attachment

    def all(self) -> list[Attachment]:
        with self._lock:
            return list(self._attachments.values())

    # ------------------------------------------------------------------------------------- internals

    def _start(self, participant: Participant, chat: Chat, request: dict, token: str) -> dict:
        name, content_type, size = (
            request.get("AttachmentName"),
            request.get("ContentType"),
            request.get("AttachmentSizeInBytes"),
        )
        if not isinstance(name, str) or not 1 <= len(name) <= 256:
            raise validation("AttachmentName must be 1-256 characters")
        if not isinstance(content_type, str) or not 1 <= len(content_type) <= 255:
            raise validation("ContentType must be 1-255 characters")
        if not isinstance(size, int) or size < 1:
            raise validation("AttachmentSizeInBytes must be at least 1")
        if PurePosixPath(name).suffix.lower().lstrip(".") not in ALLOWED_EXTENSIONS:
            raise validation("The file type is not supported")
        if size > MAX_BYTES:
            raise validation("The file is larger than the instance allows")
        attachment_id = str(uuid.uuid4())
        attachment = Attachment(
            attachment_id,
            chat.contact_id,
            participant,
            name,
            content_type,
            size,
            time.time(),
            f"{self._prefix}/staging/{attachment_id}{PurePosixPath(name).suffix.lower()}",
        )
        expires = time.time() + UPLOAD_URL_SECONDS
        response = {
            "AttachmentId": attachment_id,
            "UploadMetadata": {
                "Url": self._signed_url("upload", attachment_id, expires),
                "UrlExpiry": iso(expires),
                "HeadersToInclude": {"Content-Type": content_type},
            },
        }
        with self._lock:
            self._attachments[attachment_id] = attachment
            self._idempotent[("start", participant.participant_id, token)] = response
        return response

    def _finish(self, chat: Chat, attachment: Attachment) -> None:
        """Move to the final key, scan, delete if rejected, and stream the decision."""
        moment = datetime.now(UTC)
        attachment.final_key = (
            f"{self._prefix}/{moment:%Y/%m/%d}/{attachment.attachment_id}_"
            f"{moment:%Y%m%dT%H:%M}_UTC{attachment.extension}"
        )
        self._s3.copy_object(
            Bucket=self._bucket,
            Key=attachment.final_key,
            CopySource={"Bucket": self._bucket, "Key": attachment.staging_key},
        )
        self._s3.delete_object(Bucket=self._bucket, Key=attachment.staging_key)
        status, detail = self._scan(attachment)
        if status != "APPROVED":
            # Connect deletes a rejected file from both the staging and the final location.
            for key in (attachment.staging_key, attachment.final_key):
                self._s3.delete_object(Bucket=self._bucket, Key=key)
        with self._lock:
            attachment.status, attachment.scan_detail = status, detail
        self._model.add_item(
            chat,
            attachment.participant,
            "ATTACHMENT",
            attachment.content_type,
            [
                {
                    "AttachmentId": attachment.attachment_id,
                    "AttachmentName": attachment.name,
                    "ContentType": attachment.content_type,
                    "Status": status,
                }
            ],
        )

    def _scan(self, attachment: Attachment) -> tuple[str, str]:
        event = {
            "Version": "1.0",
            "InstanceId": self._model.instance_id,
            "File": {
                "FileId": attachment.attachment_id,
                "FileCreationTime": int(attachment.created_at * 1000),
                "FileName": attachment.name,
                "FileSizeInBytes": attachment.size,
                "FileLocation": {
                    "S3Location": {
                        "Key": attachment.final_key,
                        "Bucket": self._bucket,
                        "Arn": f"arn:aws:s3:::{self._bucket}/{attachment.final_key}",
                    }
                },
            },
        }
        deadline = time.monotonic() + SCAN_TIME_LIMIT_SECONDS
        detail = "no answer"
        for _ in range(SCAN_ATTEMPTS):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            outcome = self._invoker.invoke(SCANNER, event, timeout=remaining)
            if outcome.ok:
                status = outcome.result.get("Status") if isinstance(outcome.result, dict) else None
                # Anything but exactly APPROVED / REJECTED counts as a rejection.
                if status in ("APPROVED", "REJECTED"):
                    return status, "scanner decided"
                return "REJECTED", "malformed scanner answer"
            detail = f"scanner failed: {outcome.error}"
        return "REJECTED", detail

    def _signed_url(self, action: str, attachment_id: str, expires: float) -> str:
        stamp = str(int(expires))
        return (
            f"{self._public_url}/attachments/{attachment_id}/{action}"
            f"?X-Amz-Expires={stamp}&X-Amz-Signature={self._sign(action, attachment_id, stamp)}"
        )

    def _sign(self, action: str, attachment_id: str, stamp: str) -> str:
        return hmac.new(self._key, f"{action}\n{attachment_id}\n{stamp}".encode(), hashlib.sha256).hexdigest()

    def _verified(self, action: str, attachment_id: str, query: dict) -> Attachment:
        stamp, signature = query.get("X-Amz-Expires", ""), query.get("X-Amz-Signature", "")
        if not hmac.compare_digest(signature, self._sign(action, attachment_id, stamp)):
            raise _s3_error(403, "SignatureDoesNotMatch", "The request signature does not match.")
        if not stamp.isdigit() or int(stamp) < time.time():
            raise _s3_error(403, "AccessDenied", "Request has expired")
        with self._lock:
            attachment = self._attachments.get(attachment_id)
        if attachment is None:
            raise _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return attachment


def _s3_error(status: int, code: str, message: str) -> ConnectError:
    error = ConnectError("ValidationException", message)
    error.response.status = status
    error.response.headers = {"Content-Type": "application/xml"}
    error.response.body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
    return error
