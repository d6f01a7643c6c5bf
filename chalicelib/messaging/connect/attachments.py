"""Amazon Connect chat attachments on the customer's side (docs/reference/connect-chat.md).

Upload (customer -> agent): StartAttachmentUpload -> PUT the bytes to the presigned URL with exactly the
headers Connect asked for -> CompleteAttachmentUpload. Connect's FILE_SCANNER runs around the last step.
Download (agent -> customer): GetAttachment gives a short-lived signed URL, which Meta fetches itself.

Every call is authorised by the customer's ConnectionToken. Idempotency tokens derive from the Messenger
`mid`, so a retried relay of the same message is the same upload to Connect. Errors come out as the
gateway's domain errors (`ChatGone`, `TransientError`, `PermanentError`), never with a message text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO

from chalicelib.messaging.connect.chat import call, client_token
from chalicelib.messaging.errors import TransientError, check_http_status

# requests adds these to every request unless told not to; the presigned PUT gets only Connect's headers.
_DEFAULT_HEADERS_OFF = {"User-Agent": None, "Accept": None, "Accept-Encoding": None, "Connection": None}


@dataclass(frozen=True)
class SignedAttachment:
    url: str = field(repr=False)  # a bearer URL: whoever has it can read the file until it expires
    size: int


class ConnectAttachments:
    def __init__(self, participant: Any, http: Any, put_timeout: tuple[float, float] = (3.05, 10.0)):
        self._participant = participant
        self._http = http
        self._put_timeout = put_timeout

    def upload(
        self, connection_token: str, *, name: str, content_type: str, size: int, body: BinaryIO, idempotency_key: str
    ) -> str:
        """Upload `size` bytes from `body` (streamed from its start) as the customer; the attachment id."""
        started = self._call(
            "start_attachment_upload",
            ConnectionToken=connection_token,
            ContentType=content_type,
            AttachmentSizeInBytes=size,
            AttachmentName=name,
            ClientToken=client_token(idempotency_key, "start-attachment-upload"),
        )
        attachment_id = started.get("AttachmentId")
        metadata = started.get("UploadMetadata") or {}
        url = metadata.get("Url")
        if not attachment_id or not url:
            raise TransientError("attachment_upload_metadata_missing")
        self._put(url, metadata.get("HeadersToInclude") or {}, body)
        self._call(
            "complete_attachment_upload",
            ConnectionToken=connection_token,
            AttachmentIds=[attachment_id],
            ClientToken=client_token(idempotency_key, "complete-attachment-upload"),
        )
        return attachment_id

    def signed_url(self, connection_token: str, attachment_id: str, expiry_seconds: int) -> SignedAttachment:
        """A presigned download URL for an attachment of this chat (5..300 s)."""
        response = self._call(
            "get_attachment",
            ConnectionToken=connection_token,
            AttachmentId=attachment_id,
            UrlExpiryInSeconds=max(5, min(300, expiry_seconds)),
        )
        url = response.get("Url")
        if not url:
            raise TransientError("attachment_url_missing")
        size = response.get("AttachmentSizeInBytes")
        return SignedAttachment(url=url, size=size if isinstance(size, int) else 0)

    def _put(self, url: str, headers: dict[str, str], body: BinaryIO) -> None:
        import requests

        body.seek(0)
        try:
            response = self._http.put(
                url, data=body, headers={**_DEFAULT_HEADERS_OFF, **headers}, timeout=self._put_timeout
            )
        except requests.RequestException:
            raise TransientError("attachment_put_failed") from None
        check_http_status(response.status_code, "attachment_put_failed", "attachment_put_rejected")

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        return call(self._participant, operation, participant=True, **request)
