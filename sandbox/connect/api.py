"""The wire protocol: restJson routes of `connect` and `connectparticipant` (botocore's service models),
the presigned attachment URLs, and the one Rekognition call the scanner makes for images.

Participant calls carry their token in `X-Amz-Bearer`; every AWS call must be SigV4-signed, as boto3
always does (the app needs credentials even for bearer-token calls).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox.connect.attachments import AttachmentService
from sandbox.connect.errors import ConnectError
from sandbox.connect.model import ConnectModel
from sandbox.httpkit import HttpError, Request, Response, Router


def router(model: ConnectModel, attachments: AttachmentService, s3: Any) -> Router:
    routes = Router()

    def aws(operation: Callable[[dict], dict]) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            if not (request.headers.get("Authorization") or "").startswith("AWS4-HMAC-SHA256"):
                raise ConnectError("AccessDeniedException", "Missing Authentication Token")
            body = request.json()
            if not isinstance(body, dict):
                raise ConnectError("ValidationException", "body must be a JSON object")
            return Response.json(operation(body))

        return handle

    def bearer(operation: Callable[[str | None, dict], dict]) -> Callable[[Request], Response]:
        return lambda request: aws(lambda body: operation(request.headers.get("X-Amz-Bearer"), body))(request)

    routes.add("PUT", "/contact/chat", aws(model.start_chat_contact))
    routes.add("POST", "/contact/start-streaming", aws(model.start_contact_streaming))
    routes.add("POST", "/contact/start-contact-media-processing", aws(model.start_contact_media_processing))
    routes.add("POST", "/participant/connection", bearer(model.create_participant_connection))
    routes.add("POST", "/participant/message", bearer(model.send_message))
    routes.add("POST", "/participant/event", bearer(model.send_event))
    routes.add("POST", "/participant/disconnect", bearer(model.disconnect_participant))
    routes.add("POST", "/participant/start-attachment-upload", bearer(attachments.start_upload))
    routes.add("POST", "/participant/complete-attachment-upload", bearer(attachments.complete_upload))
    routes.add("POST", "/participant/attachment", bearer(attachments.get_attachment))

    def upload(request: Request) -> Response:
        attachments.put_object(request.params["attachment_id"], request.query, request.headers, request.body)
        return Response(200, b"", {"ETag": '"sandbox"'})

    def download(request: Request) -> Response:
        body, content_type, _name = attachments.get_object(request.params["attachment_id"], request.query)
        return Response(200, body, {"Content-Type": content_type})

    routes.add("PUT", "/attachments/{attachment_id}/upload", upload)
    routes.add("GET", "/attachments/{attachment_id}/download", download)
    routes.add("POST", "/", lambda request: _rekognition(request, s3))
    return routes


def _rekognition(request: Request, s3: Any) -> Response:
    """DetectModerationLabels: the sandbox's images are all clean; a missing object is an error, as on AWS."""
    target = request.headers.get("X-Amz-Target") or ""
    if target != "RekognitionService.DetectModerationLabels":
        raise _json_error("UnknownOperationException", f"{target or 'operation'} is not emulated")
    body = json.loads(request.body or b"{}")
    image = body.get("Image") or {}
    location = image.get("S3Object")
    if location:
        try:
            s3.head_object(Bucket=location.get("Bucket", ""), Key=location.get("Name", ""))
        except Exception:
            raise _json_error("InvalidS3ObjectException", "Unable to get object metadata from S3.") from None
    elif not image.get("Bytes"):
        raise _json_error("InvalidParameterException", "Image must have S3Object or Bytes")
    return Response.json(
        {"ModerationLabels": [], "ModerationModelVersion": "7.0"},
        headers={"Content-Type": "application/x-amz-json-1.1"},
    )


def _json_error(code: str, message: str) -> HttpError:
    return HttpError(400, {"__type": code, "message": message}, {"Content-Type": "application/x-amz-json-1.1"})
