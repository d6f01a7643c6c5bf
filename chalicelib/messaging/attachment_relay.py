"""Customer -> agent attachments: a Messenger photo, video, voice clip or file becomes a real Connect chat
attachment, which Connect's FILE_SCANNER then approves or rejects before the agent sees it.

Download (only from Meta's CDN hosts, streamed, capped, inside the webhook call's one deadline) -> true type from the bytes -> StartAttachmentUpload / PUT / Complete as the
customer. What cannot be relayed (too large, a type Connect does not take, a URL Meta no longer
serves or that is not Meta's CDN, a server too slow for the deadline, a refusal by Connect) reaches the agent as a short note and the customer as a polite message,
so nobody waits for a file that will never come. Nothing about the file (name, URL, bytes) is logged.

This is the inbound use case's `AttachmentForwarder`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from chalicelib.logs import get_logger, log_event
from chalicelib.messaging.connect.chat import client_token
from chalicelib.messaging.connect.upload_type import customer_file_name, upload_type
from chalicelib.messaging.deadline import DEFAULT_DEADLINE_SECONDS, Deadline
from chalicelib.messaging.errors import PermanentError
from chalicelib.messaging.meta.cdn import DeadlineExceeded, TooLarge
from chalicelib.messaging.meta.download_policy import DownloadRefused
from chalicelib.messaging.meta.send_api import Delivery, GraphUnavailable
from chalicelib.messaging.once import Once
from chalicelib.messaging.ports import (
    AgentNotes,
    AttachmentUploads,
    CustomerMessenger,
    Dedupe,
    Downloads,
    IncomingAttachment,
)
from chalicelib.messaging.store.sessions import ChatSession

log = get_logger("attachment_relay")

NOTICE_SCOPE = "attachment_notice"
MEDIA_TYPES = frozenset({"image", "video", "audio", "file"})
# Messenger attachment kinds without a file behind them, named in the agent's note.
_NAMED_KINDS = {"location": "a location", "fallback": "a link", "template": "a card", "sticker": "a sticker"}


class AttachmentRelay:
    def __init__(
        self,
        downloader: Downloads,
        attachments: AttachmentUploads,
        agent: AgentNotes,
        customer: CustomerMessenger,
        allowed_extensions: frozenset[str],
        max_bytes: int,
        notices: Dedupe,  # the customer's notice is sent once across webhook retries
        clock: Callable[[], float] = time.time,
    ):
        self._notices = Once(notices, NOTICE_SCOPE, clock=clock)
        self._downloader = downloader
        self._attachments = attachments
        self._agent = agent
        self._customer = customer
        self._allowed = allowed_extensions
        self._max_mb = max(1, max_bytes // (1024 * 1024))

    def forward(self, session: ChatSession, attachment: IncomingAttachment, token: str, deadline: Deadline) -> None:
        """Relay one attachment; `token` identifies it across Meta's redeliveries (from the `mid`); `deadline`
        is the webhook call's, shared by every attachment of the call.

        Raises `TransientError` (retry the webhook) and `ChatGone` (the chat ended: start a new one and
        forward again) from Connect; everything permanent is answered here with a note and a message.
        """
        self.relay(session, attachment, token, deadline)

    def relay(
        self, session: ChatSession, attachment: IncomingAttachment, key: str, deadline: Deadline | None = None
    ) -> str:
        """`forward`, returning the outcome's reason code (a fresh default deadline if none is given)."""
        deadline = deadline or Deadline(DEFAULT_DEADLINE_SECONDS)
        if attachment.sticker_id or attachment.type not in MEDIA_TYPES or not attachment.url:
            kind = "sticker" if attachment.sticker_id else attachment.type
            self._note(session, key, f"[customer sent {_NAMED_KINDS.get(kind, 'an attachment')}]")
            return "attachment_not_media"
        try:
            return self._relay(session, attachment, key, deadline)
        except TooLarge:
            return self._refuse(
                session,
                key,
                "attachment_too_large",
                f"[customer tried to send a file over the {self._max_mb} MB limit; not delivered]",
                f"Sorry, that file is too large to send here (the limit is {self._max_mb} MB). "
                "Could you send a smaller one?",
            )
        except DeadlineExceeded as problem:
            # Not worth a webhook retry: the same server would be as slow again, for hours. Both sides know.
            return self._refuse(
                session,
                key,
                problem.reason,
                "[customer sent a file that could not be fetched in time; not delivered]",
                "Sorry, we couldn't receive your file in time. Please try sending it again.",
            )
        except DownloadRefused as problem:
            # Not a URL on Meta's CDN, or not a public address behind it: never fetched (meta/download_policy.py).
            return self._refuse(
                session,
                key,
                problem.reason,
                "[customer sent a file that could not be fetched; not delivered]",
                "Sorry, we couldn't receive your file. Please try sending it again.",
                problem.code,
            )
        except PermanentError as problem:
            return self._refuse(
                session,
                key,
                problem.reason,
                "[customer sent a file that could not be delivered]",
                "Sorry, we couldn't receive your file. Please try sending it again.",
                problem.code,
            )

    def _relay(self, session: ChatSession, attachment: IncomingAttachment, key: str, deadline: Deadline) -> str:
        assert attachment.url is not None  # `relay` answered a missing URL with a note
        with self._downloader.fetch(attachment.url, deadline) as (body, size):
            kind = upload_type(body)
            # The customer's file name (made safe) and the real extension: a CSV stays a CSV for the scanner.
            named = customer_file_name(attachment.url, kind) if kind is not None and attachment.type == "file" else None
            if named is not None:
                name, kind = named
            elif kind is not None:
                name = f"messenger-{attachment.type}-{_short_hash(key)}.{kind.extension}"
            if kind is None or kind.extension not in self._allowed:
                return self._refuse(
                    session,
                    key,
                    "attachment_type_not_accepted",
                    "[customer tried to send a type of file that cannot be shared here; not delivered]",
                    "Sorry, we can't accept that type of file here. Photos, PDFs and Office documents are fine.",
                )
            attachment_id = self._attachments.upload(
                session.connection_token,
                name=name,
                content_type=kind.mime,
                size=size,
                body=body,
                idempotency_key=key,
            )
        log_event(
            log,
            "attachment_relayed",
            contact_id=session.contact_id,
            attachment_id=attachment_id,
            kind=attachment.type,
            extension=kind.extension,
            size=size,
        )
        return "attachment_uploaded"

    def _refuse(
        self, session: ChatSession, key: str, reason: str, agent_note: str, customer_text: str, code: str | None = None
    ) -> str:
        log_event(
            log, "attachment_not_relayed", logging.WARNING, contact_id=session.contact_id, reason=reason, error=code
        )
        self._note(session, key, agent_note)
        self._notify_customer_once(session, key, customer_text)
        return reason

    def _notify_customer_once(self, session: ChatSession, key: str, text: str) -> None:
        """The agent's note is idempotent through its ClientToken; Graph has none, so when a later step of
        the same webhook fails and Meta retries, the dedupe log keeps the customer from hearing it twice."""
        self._notices.run(key, lambda: self._notify_customer(session, text), lambda _: "done", busy=None)

    def _notify_customer(self, session: ChatSession, text: str) -> None:
        try:
            self._customer.send_text(session.customer_id, text, Delivery("RESPONSE"))
        except GraphUnavailable as problem:
            # The agent has the note; the customer's notice is a courtesy, not worth a webhook retry.
            log_event(log, "attachment_notice_failed", logging.WARNING, reason=problem.reason)

    def _note(self, session: ChatSession, key: str, text: str) -> None:
        self._agent.send_text(session.connection_token, text, client_token(key, "attachment-note"))


def _short_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
