"""Use case: Amazon Connect chat stream -> the customer on Messenger.

For every record of an SNS event (docs/reference/connect-chat.md):
- decide from the item alone whether the customer should see it: MESSAGE/ATTACHMENT/typing items from
  AGENT, SYSTEM or CUSTOM_BOT with visibility CUSTOMER or ALL. The customer's own messages, receipts,
  joins, transfers and whispers are ignored before any lookup;
- find the customer by `InitialContactId` (stable across transfers);
- send text (markdown flattened, interactive templates as quick replies, long text split, outbound PII
  redaction applied), `typing_on`, or an attachment by signed URL with a text fallback;
- `chat.ended` or the customer leaving closes the session, so the next customer message starts a new
  chat. Within one event those records run last, and the contact stays resolvable for a grace period,
  so goodbye messages streamed around the end still arrive.

Exactly once: each send is claimed in the dedupe log under the item Id (and part number) before it is
made, completed after, and released on a transient failure. Records are independent: one record's
failure never stops the others; the event is retried (by raising in app.py) when any record failed
transiently, and the dedupe log makes that retry skip what was already delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from chalicelib.logs import get_logger, log_error, log_event
from chalicelib.messaging import rendering
from chalicelib.messaging.connect import stream_items
from chalicelib.messaging.connect.chat import ChatGone, client_token
from chalicelib.messaging.connect.stream_items import MalformedRecord, StreamItem
from chalicelib.messaging.errors import ConfigurationError, MessagingError, PermanentError, TransientError
from chalicelib.messaging.meta.send_api import (
    MAX_ATTACHMENT_URL_BYTES,
    MAX_IMAGE_URL_BYTES,
    UNCONFIRMED,
    Delivery,
    GraphUnavailable,
    SendResult,
    attachment_kind,
    delivery_for,
)
from chalicelib.messaging.once import Once
from chalicelib.messaging.ports import (
    AttachmentUrls,
    ChoiceMemory,
    CustomerConnection,
    CustomerMessenger,
    Dedupe,
    Sessions,
    TextRedactor,
)
from chalicelib.messaging.store.sessions import ChatSession
from chalicelib.redaction.redactor import RedactionUnavailable

log = get_logger("outbound")

DEDUPE_SCOPE = "stream"
UNKNOWN_CONTACT_GRACE_SECONDS = 120
# Connect caps a message at 16 KiB, about 9 Messenger parts; anything longer is not a chat message.
MAX_PARTS = 10
ATTACHMENT_FALLBACK_TEXT = (
    "The agent sent you a file that can't be shown here. Please ask them for another way to receive it."
)
WINDOW_CLOSED_NOTE = "[Connect Guard: the customer's Messenger reply window has closed; your message was not delivered]"
CUSTOMER_FILE_REJECTED_TEXT = (
    "Sorry, we couldn't accept the file you sent: it did not pass our security check. "
    "Please send it in another format, or describe what it shows."
)
NOT_SHOWN_NOTE = (
    "[Connect Guard: the customer's channel cannot show this {kind} message; it was not delivered. "
    "Please ask in plain text.]"
)
# Graph refusals after which a text saying "a file was sent" would fail the same way.
_NO_FALLBACK_REASONS = frozenset(
    {
        "outside_window",
        "unknown_recipient",
        "invalid_token",
        "permission_denied",
        "messaging_disabled",
        "recipient_unavailable",
        "policy_blocked",
        UNCONFIRMED,  # maybe delivered: no second message about it
    }
)


# ------------------------------------------------------------------------------------------------ values


@dataclass(frozen=True)
class OutboundPolicy:
    human_agent_tag: bool = False
    attachment_url_seconds: int = 300
    notify_agent_when_window_closed: bool = True


@dataclass(frozen=True)
class RecordOutcome:
    """What became of one record. `reason` is a code; `transient` means the event must be retried."""

    reason: str
    transient: bool = False


class RetryLater(Exception):
    """Raised by the entry point so Lambda retries the event; the message holds counts only."""

    def __init__(self, failed: int, total: int):
        super().__init__(f"{failed} of {total} stream records failed transiently; retrying")


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[RecordOutcome, ...]

    @property
    def retry(self) -> bool:
        return any(outcome.transient for outcome in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(outcome.transient for outcome in self.outcomes)

    def raise_for_retry(self) -> None:
        """Raise `RetryLater` when a record failed transiently, so Lambda retries the whole event."""
        if self.retry:
            raise RetryLater(failed=self.failed, total=len(self.outcomes))


# ------------------------------------------------------------------------------------------------ routing


def route(item: StreamItem) -> str:
    """What to do with an item, decided without any I/O: an action, or `ignore:<reason>`."""
    if item.ends_conversation:
        return "end"
    if item.role == "CUSTOMER":
        if item.is_attachment and any(ref.status == "REJECTED" for ref in item.attachments):
            return "customer_file_rejected"  # the scanner refused the customer's own file: tell them
        return "ignore:customer_echo"
    if item.role not in stream_items.FORWARDED_ROLES:
        return "ignore:role_not_forwarded"
    if not item.visible_to_customer:
        return "ignore:not_visible_to_customer"
    if item.is_typing:
        return "typing"
    if item.is_attachment:
        return "attachment"
    if item.content_type.startswith(stream_items.EVENT_PREFIX):
        return "ignore:event_not_forwarded"
    if item.content_type == stream_items.INTERACTIVE_RESPONSE:
        return "ignore:interactive_response"
    if item.item_type not in ("MESSAGE", ""):
        return "ignore:item_type_not_forwarded"
    if item.content_type in _RENDERERS:
        return "message"
    return "ignore:content_type_not_supported"


def render(item: StreamItem) -> rendering.Rendered | None:
    """The customer-facing text of a MESSAGE item, or None when there is nothing readable."""
    renderer = _RENDERERS.get(item.content_type)
    rendered = renderer(item.content or "") if renderer else None
    return rendered if rendered is not None and rendered.text.strip() else None


_RENDERERS: dict[str, Callable[[str], rendering.Rendered | None]] = {
    stream_items.TEXT_PLAIN: lambda content: rendering.Rendered(content),
    stream_items.TEXT_MARKDOWN: lambda content: rendering.Rendered(rendering.markdown_to_text(content)),
    stream_items.INTERACTIVE: rendering.render_interactive,
    # application/json is only readable when it carries an interactive template; raw JSON is never sent.
    stream_items.JSON: rendering.render_interactive,
}


# ------------------------------------------------------------------------------------------------ use case


class OutboundRelay:
    def __init__(
        self,
        sessions: Sessions,
        dedupe: Dedupe,
        messenger: CustomerMessenger,
        attachments: AttachmentUrls,
        connection: CustomerConnection,
        redactor: TextRedactor,
        policy: OutboundPolicy = OutboundPolicy(),
        clock: Callable[[], float] = time.time,
        choices: ChoiceMemory | None = None,
    ):
        self._sessions = sessions
        self._once = Once(dedupe, DEDUPE_SCOPE, clock=clock)
        self._messenger = messenger
        self._attachments = attachments
        self._connection = connection
        self._redactor = redactor
        self._policy = policy
        self._clock = clock
        self._choices = choices

    def handle_event(self, event: Mapping[str, Any]) -> BatchResult:
        """Every record of one SNS event; conversation ends run after the event's other records."""
        records = stream_items.parse_event(event)
        order = sorted(range(len(records)), key=lambda i: _ends_conversation(records[i]))
        outcomes: list[RecordOutcome] = [RecordOutcome("not_processed")] * len(records)
        for index in order:
            outcomes[index] = self.handle(records[index])
        return BatchResult(tuple(outcomes))

    def handle(self, record: StreamItem | MalformedRecord) -> RecordOutcome:
        """One record; never raises."""
        if isinstance(record, MalformedRecord):
            log_event(
                log,
                "stream_record_malformed",
                logging.WARNING,
                reason=record.reason,
                index=record.index,
                sns_message_id=record.sns_message_id,
            )
            return RecordOutcome(f"malformed:{record.reason}")
        action = route(record)
        fields = {
            "item_id": record.item_id,
            "contact_id": record.initial_contact_id,
            "role": record.role,
            "content_type": record.content_type,
        }
        if action.startswith("ignore:"):
            log_event(log, "stream_item_ignored", logging.DEBUG, reason=action[7:], **fields)
            return RecordOutcome(action[7:])
        try:
            outcome = self._act(action, record)
        except (TransientError, ConfigurationError, GraphUnavailable, RedactionUnavailable) as problem:
            # Configuration problems are retried too: dropping agent replies while someone fixes IAM loses them.
            outcome = RecordOutcome(_reason(problem), transient=True)
        except MessagingError as problem:
            outcome = RecordOutcome(_reason(problem))
        except Exception as problem:  # a bug must not lose the other records of the event
            log_error(log, "stream_item_crashed", problem, **fields)
            outcome = RecordOutcome("unexpected_error", transient=True)
        level = logging.WARNING if outcome.transient else logging.INFO
        log_event(
            log,
            "stream_item_handled",
            level,
            action=action,
            outcome=outcome.reason,
            transient=outcome.transient,
            **fields,
        )
        return outcome

    # -------------------------------------------------------------------------------------------- actions

    def _act(self, action: str, item: StreamItem) -> RecordOutcome:
        now = self._clock()
        if action == "end":
            self._sessions.end_contact(item.initial_contact_id, now)
            return RecordOutcome("conversation_ended")
        session = self._sessions.find_by_contact(item.initial_contact_id, now)
        if session is None:
            fresh = item.absolute_time is not None and now - item.absolute_time < UNKNOWN_CONTACT_GRACE_SECONDS
            if fresh and action != "typing":
                # The contact flow can greet the customer before the inbound path has recorded the new
                # chat: retry shortly instead of losing the first message.
                raise TransientError("contact_not_yet_known")
            return RecordOutcome("unknown_contact")
        delivery = _delivery(session, now, self._policy.human_agent_tag)
        if action == "typing":
            if not delivery.in_response_window:
                return RecordOutcome("typing_outside_window")
            return RecordOutcome(_result_reason(self._messenger.send_typing(session.customer_id)))
        if not delivery.allowed:
            self._tell_agent_window_closed(session, item, now)
            return RecordOutcome(delivery.skip_reason or "outside_window")
        if action == "attachment":
            return self._send_attachments(item, session, delivery, now)
        if action == "customer_file_rejected":
            return RecordOutcome(
                self._send_once(
                    item,
                    0,
                    lambda: self._messenger.send_text(session.customer_id, CUSTOMER_FILE_REJECTED_TEXT, delivery),
                )
            )
        return self._send_message(item, session, delivery, now)

    def _send_message(self, item: StreamItem, session: ChatSession, delivery: Delivery, now: float) -> RecordOutcome:
        rendered = render(item)
        if rendered is None:
            self._tell_agent_not_shown(session, item, now)
            return RecordOutcome("message_unreadable")
        text = self._redactor.redact(rendered.text, None, now).text
        replies = tuple(
            replace(r, title=self._redactor.redact(r.title, None, now).text) for r in rendered.quick_replies
        )
        parts = rendering.split_for_channel(text, session.channel)
        if not parts:
            return RecordOutcome("message_empty")
        if len(parts) > MAX_PARTS:
            log_event(log, "message_truncated", logging.WARNING, item_id=item.item_id, parts=len(parts))
            parts = parts[:MAX_PARTS]
        reason = "sent"
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            send = partial(self._messenger.send_text, session.customer_id, part, delivery, replies if last else ())
            reason = self._send_once(item, index, send)
            if reason not in ("sent", "duplicate", UNCONFIRMED):
                break  # a permanent refusal applies to the remaining parts too
        if rendered.template is not None and reason in ("sent", "duplicate"):
            template = rendered.template
            reason = self._send_once(
                item, len(parts), lambda: self._messenger.send_template(session.customer_id, template, delivery)
            )
        if rendered.choices and self._choices is not None:
            # A typed "2" answers this list: the inbound path maps it to the option (choices.py).
            self._choices.remember(session.contact_id, rendered.choices, now)
        return RecordOutcome(reason)

    def _send_attachments(
        self, item: StreamItem, session: ChatSession, delivery: Delivery, now: float
    ) -> RecordOutcome:
        reason = "attachment_missing"
        for index, ref in enumerate(item.attachments):
            if ref.status == "REJECTED":
                reason = "attachment_rejected"  # the scanner refused it; the agent sees that in Connect
                continue
            reason = self._send_once(item, index, partial(self._send_attachment, ref, session, delivery, now))
        return RecordOutcome(reason)

    def _send_attachment(
        self, ref: stream_items.AttachmentRef, session: ChatSession, delivery: Delivery, now: float
    ) -> SendResult:
        try:
            signed = self._attachments.signed_url(
                self._connection_token(session, now), ref.attachment_id, self._policy.attachment_url_seconds
            )
        except (ChatGone, PermanentError) as problem:
            log_event(
                log, "attachment_unavailable", logging.WARNING, reason=_reason(problem), attachment_id=ref.attachment_id
            )
            return self._fallback(session, delivery)
        content_type = ref.content_type or "application/octet-stream"
        kind = attachment_kind(content_type)
        if signed.size > MAX_ATTACHMENT_URL_BYTES:
            return self._fallback(session, delivery)
        if kind == "image" and signed.size > MAX_IMAGE_URL_BYTES:
            kind = "file"  # Meta fetches images by URL only up to 8 MB
        result = self._messenger.send_attachment_url(session.customer_id, kind, signed.url, delivery)
        if result.delivered or result.reason in _NO_FALLBACK_REASONS:
            return result
        log_event(log, "attachment_fallback", logging.WARNING, reason=result.reason, attachment_id=ref.attachment_id)
        return self._fallback(session, delivery)

    def _fallback(self, session: ChatSession, delivery: Delivery) -> SendResult:
        result = self._messenger.send_text(session.customer_id, ATTACHMENT_FALLBACK_TEXT, delivery)
        return replace(result, reason="attachment_fallback_sent") if result.delivered else result

    # -------------------------------------------------------------------------------------------- helpers

    def _send_once(self, item: StreamItem, part: int, send: Callable[[], SendResult]) -> str:
        """Make one send at most once (once.py): a duplicate is skipped, a send in progress retried later."""
        result = self._once.run(f"{item.item_id}#{part}", send, _result_reason, busy="send_in_progress")
        return "duplicate" if result is None else _result_reason(result)

    def _connection_token(self, session: ChatSession, now: float) -> str:
        """The customer's ConnectionToken, renewed first when it has expired."""
        if session.ended or not session.participant_token:
            raise ChatGone("chat_ended")
        if session.connection_valid(now):
            return session.connection_token
        connection = self._connection.create_connection(session.participant_token)
        self._sessions.update_connection(session, connection.connection_token, connection.expires_at)
        return connection.connection_token

    def _tell_agent_not_shown(self, session: ChatSession, item: StreamItem, now: float) -> None:
        """A message Messenger / Instagram cannot show (a ViewResource step-by-step guide, a form) is not
        dropped in silence: the agent is told, in the chat, so they can ask in plain text."""
        if item.content_type not in (stream_items.INTERACTIVE, stream_items.JSON):
            return
        kind = rendering.template_kind(item.content)
        try:
            token = self._connection_token(session, now)
            self._connection.send_text(
                token, NOT_SHOWN_NOTE.format(kind=kind or "interactive"), client_token(item.item_id, "not-shown")
            )
        except MessagingError as problem:
            log_event(log, "not_shown_note_failed", logging.WARNING, reason=_reason(problem), item_id=item.item_id)

    def _tell_agent_window_closed(self, session: ChatSession, item: StreamItem, now: float) -> None:
        """Let the agent know the reply never left (docs/reference/graph-send-api.md: tell the agent the window closed)."""
        if not self._policy.notify_agent_when_window_closed or item.role != "AGENT":
            return
        try:
            token = self._connection_token(session, now)
            self._connection.send_text(token, WINDOW_CLOSED_NOTE, client_token(item.item_id, "window-closed"))
        except MessagingError as problem:
            log_event(log, "window_note_failed", logging.WARNING, reason=_reason(problem), item_id=item.item_id)


def _delivery(session: ChatSession, now: float, human_agent_tag: bool) -> Delivery:
    last = session.last_customer_message_at
    last_at = datetime.fromtimestamp(last, UTC) if last > 0 else None
    return delivery_for(last_at, datetime.fromtimestamp(now, UTC), human_agent_tag)


def _result_reason(result: SendResult) -> str:
    return "sent" if result.delivered and result.reason == "sent" else result.reason


def _reason(problem: BaseException) -> str:
    return getattr(problem, "reason", None) or type(problem).__name__


def _ends_conversation(record: StreamItem | MalformedRecord) -> bool:
    return isinstance(record, StreamItem) and record.ends_conversation
