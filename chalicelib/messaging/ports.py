"""What the messaging use cases need from the systems around them, as Protocols (one place).

The use cases (inbound.py, outbound.py, attachment_relay.py) depend on these and on value types only;
wiring.py hands them the real adapters (meta/, connect/, store/, the redactor), tests hand them fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol

from chalicelib.messaging.connect.attachments import SignedAttachment
from chalicelib.messaging.connect.chat import Connection, StartedChat
from chalicelib.messaging.deadline import Deadline
from chalicelib.messaging.meta.send_api import Delivery, SendResult
from chalicelib.messaging.rendering import QuickReply
from chalicelib.messaging.store.choices import Offered
from chalicelib.messaging.store.dedupe import Claim
from chalicelib.messaging.store.sessions import ChatSession, CustomerRecord
from chalicelib.redaction.redactor import Redaction, RedactionContext

# ------------------------------------------------------------------------------------------------ store


class Sessions(Protocol):
    """The session store (store/sessions.py): customer <-> contact, tokens, expiry."""

    def customer(self, channel: str, customer_id: str, now: float) -> CustomerRecord | None: ...
    def find_by_contact(self, initial_contact_id: str, now: float | None = None) -> ChatSession | None: ...
    def claim_start(
        self,
        channel: str,
        customer_id: str,
        start_token: str,
        now: float,
        lease_seconds: float,
        expected_version: int | None,
    ) -> bool: ...
    def activate(self, session: ChatSession, start_token: str, version: int, now: float) -> bool: ...
    def abandon_start(self, channel: str, customer_id: str, start_token: str, version: int, now: float) -> None: ...
    def update_connection(
        self, session: ChatSession, connection_token: str, expires_at: float
    ) -> ChatSession | None: ...
    def store_redaction(
        self,
        session: ChatSession,
        at: float,
        redaction: Mapping[str, Any],
        message: str = "",
        before: Mapping[str, Any] | None = None,
    ) -> bool: ...
    def queue_for_turn(self, channel: str, customer_id: str, message: str, sent_at_ms: int, now: float) -> None: ...
    def take_turn(
        self,
        channel: str,
        customer_id: str,
        holder: str,
        now: float,
        lease_seconds: float,
        sent_at_ms: int = 0,
        message: str = "",
    ) -> bool: ...
    def give_back_turn(self, channel: str, customer_id: str, holder: str, message: str = "") -> None: ...
    def leave_queue(self, channel: str, customer_id: str, message: str) -> None: ...
    def end_contact(self, initial_contact_id: str, now: float | None = None) -> None: ...


class ChoiceMemory(Protocol):
    """The options of the numbered list a customer was last offered (store/choices.py)."""

    def remember(self, contact_id: str, titles: tuple[str, ...], now: float) -> None: ...
    def recall(self, contact_id: str, now: float) -> Offered: ...
    def forget(self, contact_id: str, list_id: str) -> None: ...


class Dedupe(Protocol):
    """The dedupe log (store/dedupe.py); used through once.Once."""

    def claim(self, scope: str, key: str, now: float, lease_seconds: float = 30.0, holder: str = "") -> Claim: ...
    def complete(self, scope: str, key: str, now: float, outcome: str = "done") -> None: ...
    def release(self, scope: str, key: str, holder: str = "") -> None: ...


# ------------------------------------------------------------------------------------------------ Connect


class AgentNotes(Protocol):
    """Text into the agent's chat, as the customer participant."""

    def send_text(
        self, connection_token: str, text: str, token: str, content_type: str = "text/plain"
    ) -> list[str]: ...


class CustomerConnection(AgentNotes, Protocol):
    """The Connect participant calls made on the customer's behalf: renew a connection, send text."""

    def create_connection(self, participant_token: str) -> Connection: ...


class AgentChat(CustomerConnection, Protocol):
    """The whole chat gateway (connect/chat.py): start a chat, stream it, connect, send."""

    def start_chat(self, channel: str, display_name: str, token: str) -> StartedChat: ...
    def start_streaming(self, contact_id: str) -> None: ...
    def disconnect(self, connection_token: str, token: str) -> None: ...


class AttachmentUploads(Protocol):
    def upload(
        self, connection_token: str, *, name: str, content_type: str, size: int, body: BinaryIO, idempotency_key: str
    ) -> str: ...


class AttachmentUrls(Protocol):
    def signed_url(self, connection_token: str, attachment_id: str, expiry_seconds: int) -> SignedAttachment: ...


# ------------------------------------------------------------------------------------------------ Meta


class CustomerMessenger(Protocol):
    """The Graph Send API client (meta/send_api.py)."""

    def send_text(
        self, psid: str, text: str, delivery: Delivery, quick_replies: Iterable[QuickReply] = ()
    ) -> SendResult: ...
    def send_attachment_url(self, psid: str, kind: str, url: str, delivery: Delivery) -> SendResult: ...
    def send_template(self, psid: str, attachment: dict, delivery: Delivery) -> SendResult: ...
    def send_typing(self, psid: str) -> SendResult: ...


class Downloads(Protocol):
    """Meta's CDN (meta/cdn.py): a file from an allowed host streamed to a spool, capped, within `deadline`."""

    def fetch(self, url: str, deadline: Deadline) -> AbstractContextManager[tuple[BinaryIO, int]]: ...


class IncomingAttachment(Protocol):
    """A customer's attachment as the webhook describes it (meta/webhook.py `Attachment`)."""

    @property
    def type(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def sticker_id(self) -> str | None: ...


class AttachmentForwarder(Protocol):
    """Gets one customer attachment to the agent's chat. Raises `ChatGone`, `TransientError` or
    `PermanentError` like the Connect gateway; `token` is idempotent across Meta's redeliveries; `deadline` is
    the webhook call's one time budget."""

    def forward(self, session: ChatSession, attachment: IncomingAttachment, token: str, deadline: Deadline) -> None: ...


# ------------------------------------------------------------------------------------------------ redaction


class TextRedactor(Protocol):
    """redaction/redactor.py's `Redactor`."""

    def redact(self, text: str, context: RedactionContext | None = None, now: float | None = None) -> Redaction: ...
