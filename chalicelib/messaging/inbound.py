"""Use case: a customer's Messenger or Instagram event -> redacted -> the agent's Amazon Connect chat, exactly once.

    handle(event) -> Outcome          (or raises TransientError / ConfigurationError: answer 5xx)

- Echoes (the Page's own messages) are ignored before anything else: never a chat for the Page itself.
- Standby items, deliveries, reads, reactions and other known events are ignored and counted.
- Text, quick replies (their title), postbacks (their title; *Get Started* opens the chat), edits,
  attachments and what Meta will not show us are delivered (content_notes.py says what the agent reads):
  claim the message key in the dedupe log, redact, find or start the chat, send with ClientTokens
  derived from the message key, record the session, complete the claim.
- A token Connect no longer accepts (`ChatGone` on send) is first renewed from the participant token: the
  chat goes on. Only when Connect says the chat ended is the session dropped (the old participant
  disconnected, never left open), a new chat started and the message delivered there.
- Concurrent first messages start ONE chat: one request wins the conditional start, the others wait
  (briefly) for it and then send on it; a crashed start is taken over after its lease.
- Transient failures release the claim and propagate, so Meta's retry delivers the message once;
  permanent ones complete the claim with a reason code.
- Attachment downloads take their time from the webhook call's one `Deadline` (deadline.py), handed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from chalicelib.logs import get_logger, log_event
from chalicelib.messaging import content_notes
from chalicelib.messaging.connect.chat import ChatGone, client_token, split_for_connect
from chalicelib.messaging.deadline import DEFAULT_DEADLINE_SECONDS, Deadline
from chalicelib.messaging.errors import MessagingError, PermanentError, TransientError
from chalicelib.messaging.meta.address import CustomerAddress
from chalicelib.messaging.meta.webhook import (
    Attachment,
    Attachments,
    CustomerMessage,
    Echo,
    Edit,
    Event,
    Postback,
    QuickReplyTap,
    Text,
    Unparseable,
    Unsupported,
    message_key,
)
from chalicelib.messaging.once import Once
from chalicelib.messaging.ports import AgentChat, AttachmentForwarder, ChoiceMemory, Dedupe, Sessions, TextRedactor
from chalicelib.messaging.store.sessions import SESSION_MARGIN_SECONDS, ChatSession, CustomerRecord, CustomerState
from chalicelib.redaction.redactor import RedactionContext, RedactionUnavailable

DEDUPE_SCOPE = "inbound"
# What the agent sees as the customer's name: the channel, never the PSID / IGSID.
DISPLAY_NAMES = {"messenger": "Messenger customer", "instagram": "Instagram customer"}
# Attachments relayed as files; everything else (links, posts, stickers, locations) is words for the agent.
MEDIA_TYPES = frozenset({"image", "video", "audio", "file"})
MAX_TEXT_PIECES = 8  # 8 x 1024 chars reach the agent; the rest is cut with a visible note

_log = get_logger("messaging.inbound")


@dataclass(frozen=True)
class Outcome:
    result: str  # delivered | duplicate | ignored | rejected
    reason: str  # the event kind, or why it was rejected
    contact_id: str | None = None


class InboundMessages:
    def __init__(
        self,
        sessions: Sessions,
        dedupe: Dedupe,
        chat: AgentChat,
        redactor: TextRedactor,
        attachments: AttachmentForwarder,
        chat_duration_minutes: int = 1500,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        start_lease_seconds: float = 30.0,
        start_wait_seconds: float = 4.0,
        location_precision: str = "none",
        choices: ChoiceMemory | None = None,
    ):
        self._sessions = sessions
        self._once = Once(dedupe, DEDUPE_SCOPE, lease_seconds=start_lease_seconds, clock=clock)
        self._chat = chat
        self._redactor = redactor
        self._attachments = attachments
        self._chat_lifetime = chat_duration_minutes * 60 + SESSION_MARGIN_SECONDS
        self._clock = clock
        self._sleep = sleep
        self._start_lease = start_lease_seconds
        self._start_wait = start_wait_seconds
        self._location_precision = location_precision
        self._choices = choices

    def handle(self, event: Event, deadline: Deadline | None = None) -> Outcome:
        """`deadline`: the webhook call's one time budget (endpoint.py makes it); a fresh default one if None."""
        if isinstance(event, Echo):
            return Outcome("ignored", "echo")
        if isinstance(event, Unparseable):
            return Outcome("rejected", event.reason)
        if event.origin.standby:
            return Outcome("ignored", "standby")
        if not isinstance(event, (Text, QuickReplyTap, Postback, Attachments, Edit, Unsupported)):
            return Outcome("ignored", event.kind)
        return self._deliver_once(event, deadline or Deadline(DEFAULT_DEADLINE_SECONDS))

    # -- exactly once

    def _deliver_once(self, event: CustomerMessage, deadline: Deadline) -> Outcome:
        key = message_key(event)
        outcome = self._once.run(
            key, lambda: self._deliver_or_reject(event, key, deadline), _completion, busy="message_in_progress"
        )
        return Outcome("duplicate", event.kind) if outcome is None else outcome

    def _deliver_or_reject(self, event: CustomerMessage, key: str, deadline: Deadline) -> Outcome:
        try:
            return self._deliver(event, key, deadline)
        except PermanentError as exc:
            return Outcome("rejected", exc.reason)

    # -- delivery

    def _deliver(self, event: CustomerMessage, key: str, deadline: Deadline) -> Outcome:
        channel = event.origin.channel
        customer_id = CustomerAddress.of(event.origin).customer_id
        record = self._sessions.customer(channel, customer_id, self._clock())
        texts, context = self._redact(event, record)

        session, fresh = self._ready_session(channel, customer_id, key, record)
        try:
            self._send(session, event, texts, key, deadline)
        except ChatGone as gone:
            if fresh:
                raise PermanentError("chat_refused", gone.code) from None
            session = self._recover(session, gone, channel, customer_id, key)
            try:
                self._send(session, event, texts, key, deadline)
            except ChatGone as again:
                raise PermanentError("chat_refused", again.code) from None

        self._sessions.touch(session, self._clock(), context.to_item())
        return Outcome("delivered", event.kind, session.contact_id)

    def _recover(self, session: ChatSession, gone: ChatGone, channel: str, customer_id: str, key: str) -> ChatSession:
        """Connect refused the ConnectionToken. It may only have expired (Connect's Expiry is shorter than
        the chat): renew it from the participant token and carry on in the same chat. Only when Connect
        says the chat itself is over is a new one started."""
        try:
            renewed = self._renew(session)
        except ChatGone as ended:
            log_event(_log, "chat_gone", contact_id=session.contact_id, error=ended.code, stage="send")
            self._abandon(session)
            record = self._sessions.customer(channel, customer_id, self._clock())
            return self._ready_session(channel, customer_id, key, record, recovering=True)[0]
        log_event(_log, "chat_connection_renewed", contact_id=session.contact_id, error=gone.code, stage="send")
        return renewed

    def _abandon(self, session: ChatSession) -> None:
        """Forget the chat, and make sure its customer participant is not left connected to it."""
        try:
            self._chat.disconnect(session.connection_token, client_token("disconnect", session.contact_id))
        except MessagingError as problem:  # ended chats refuse it: that is the expected answer
            log_event(_log, "chat_disconnect_skipped", contact_id=session.contact_id, reason=problem.reason)
        self._sessions.end_contact(session.contact_id, self._clock())

    def _redact(self, event: CustomerMessage, record: CustomerRecord | None) -> tuple[list[str], RedactionContext]:
        """Every customer word goes through the redactor before Connect; the context carries over
        between messages of one chat (e.g. "my card number is" ... "4111 ...")."""
        context = RedactionContext.from_item(record.session.redaction if record and record.session else None)
        texts = []
        for text in self._as_chosen(event, record) or _customer_texts(event, self._location_precision):
            try:
                redaction = self._redactor.redact(text, context, self._clock())
            except RedactionUnavailable:
                raise TransientError("redaction_unavailable") from None
            context = redaction.context
            if redaction.changed:
                log_event(_log, "customer_text_redacted", entities=dict(redaction.entity_counts))
            texts.append(redaction.text)
        return texts, context

    def _as_chosen(self, event: CustomerMessage, record: CustomerRecord | None) -> list[str]:
        """A bare number answering the numbered list the customer was last offered: the option itself, as
        the agent or bot offered it (rendering.py sends lists too long for quick replies as numbers)."""
        if self._choices is None or not isinstance(event, Text) or record is None or record.session is None:
            return []
        answer = event.text.strip().rstrip(".")
        if not answer.isdigit() or len(answer) > 2:
            return []
        contact_id = record.session.contact_id
        titles = self._choices.recall(contact_id, self._clock())
        if not 1 <= int(answer) <= len(titles):
            return []
        self._choices.forget(contact_id)
        return [titles[int(answer) - 1]]

    def _send(
        self, session: ChatSession, event: CustomerMessage, texts: list[str], key: str, deadline: Deadline
    ) -> None:
        # Tokens include the contact: after a recovery the same message goes to a new chat.
        if isinstance(event, Attachments):
            for index, attachment in enumerate(event.attachments):
                if _is_file(attachment):
                    self._attachments.forward(
                        session, attachment, client_token(key, session.contact_id, "file", str(index)), deadline
                    )
        for index, text in enumerate(texts):
            self._chat.send_text(
                session.connection_token, _bounded(text), client_token(key, session.contact_id, str(index))
            )

    # -- the chat a message goes to

    def _ready_session(
        self, channel: str, customer_id: str, key: str, record: CustomerRecord | None, recovering: bool = False
    ) -> tuple[ChatSession, bool]:
        """The customer's chat with a valid connection, started if needed; `fresh` when started here."""
        deadline = time.monotonic() + self._start_wait
        while True:
            now = self._clock()
            if record is not None and record.state is CustomerState.ACTIVE and record.session is not None:
                try:
                    return self._connected(record.session, now), False
                except ChatGone as gone:
                    if recovering:
                        raise PermanentError("chat_refused", gone.code) from None
                    recovering = True
                    log_event(_log, "chat_gone", contact_id=record.session.contact_id, error=gone.code, stage="connect")
                    self._abandon(record.session)
            elif record is None or record.state is CustomerState.ENDED or record.start_lease_expired(now):
                # A start that crashed is taken over with ITS token: Connect then returns the same contact.
                taken_over = (
                    record.start_token if record is not None and record.state is CustomerState.STARTING else None
                )
                token = taken_over or client_token("start", channel, customer_id, key)
                version = record.version if record is not None else None
                if self._sessions.claim_start(channel, customer_id, token, now, self._start_lease, version):
                    return self._open_chat(channel, customer_id, token, (version or 0) + 1, now), True
            elif time.monotonic() >= deadline:
                raise TransientError("chat_starting")  # another request is starting it; Meta retries
            else:
                self._sleep(0.05)
            record = self._sessions.customer(channel, customer_id, self._clock())

    def _connected(self, session: ChatSession, now: float) -> ChatSession:
        """The session with a ConnectionToken that will not expire mid-call (renewed from the
        participant token, which lives as long as the chat)."""
        if session.connection_valid(now):
            return session
        return self._renew(session)

    def _renew(self, session: ChatSession) -> ChatSession:
        """A new ConnectionToken from the participant token (raises `ChatGone` once the chat ended)."""
        connection = self._chat.create_connection(session.participant_token)
        updated = self._sessions.update_connection(session, connection.connection_token, connection.expires_at)
        log_event(_log, "chat_connection_renewed", contact_id=session.contact_id)
        if updated is None:  # ended or replaced meanwhile: the next call will tell
            return replace(
                session, connection_token=connection.connection_token, connection_expires_at=connection.expires_at
            )
        return updated

    def _open_chat(self, channel: str, customer_id: str, token: str, version: int, now: float) -> ChatSession:
        started = self._chat.start_chat(channel, DISPLAY_NAMES.get(channel, "Customer"), token)
        self._chat.start_streaming(started.contact_id)
        try:
            connection = self._chat.create_connection(started.participant_token)
        except ChatGone as gone:
            # The flow ended the brand-new chat at once: do not take this start over again.
            self._sessions.abandon_start(channel, customer_id, token, version, now)
            raise PermanentError("chat_refused", gone.code) from None
        session = ChatSession(
            channel=channel,
            customer_id=customer_id,
            contact_id=started.contact_id,
            participant_token=started.participant_token,
            connection_token=connection.connection_token,
            connection_expires_at=connection.expires_at,
            last_customer_message_at=now,
            expires_at=int(now + self._chat_lifetime),
            redaction={},
        )
        if not self._sessions.activate(session, token, version, now):
            # Our start lease ran out and another request took over (with the same token, so the
            # same contact): let Meta retry; the retry finds the active session.
            raise TransientError("chat_start_taken_over")
        log_event(_log, "chat_started", contact_id=started.contact_id)
        return session


def _completion(outcome: Outcome) -> str:
    """What the dedupe log records: `delivered`, or the reason the message was rejected for good."""
    return outcome.reason if outcome.result == "rejected" else outcome.result


def _customer_texts(event: CustomerMessage, location_precision: str = "none") -> list[str]:
    """The words the agent gets for an event, before redaction (docs/messenger.md, docs/instagram.md)."""
    if isinstance(event, Text):
        return [event.text] + ([content_notes.story_reply(event.story_url)] if event.story_url else [])
    if isinstance(event, QuickReplyTap):
        return [event.text]
    if isinstance(event, Postback):
        # The title is what the customer tapped; the payload is the Page developer's, not theirs.
        return [event.title or content_notes.BUTTON]
    if isinstance(event, Edit):
        return [content_notes.edited(event.text)]
    if isinstance(event, Unsupported):
        return [
            content_notes.EPHEMERAL if event.what == "ephemeral" else content_notes.unsupported(event.origin.channel)
        ]
    texts = [event.text] if event.text else []
    for attachment in event.attachments:
        if not _is_file(attachment):
            texts.append(_attachment_words(attachment, event.origin.channel, location_precision))
    return texts


def _is_file(attachment: Attachment) -> bool:
    return attachment.type in MEDIA_TYPES and not attachment.sticker_id


def _attachment_words(attachment: Attachment, channel: str, location_precision: str) -> str:
    if attachment.sticker_id or attachment.type in ("sticker", "like_heart"):
        return content_notes.STICKER
    if attachment.type == "location":
        return content_notes.location(attachment.latitude, attachment.longitude, location_precision)
    if attachment.type == "story_mention":
        return content_notes.story_mention(attachment.url)
    if attachment.type == "ephemeral":
        return content_notes.EPHEMERAL
    if attachment.url or attachment.title:
        return content_notes.link(attachment.type, attachment.url, attachment.title)
    return content_notes.unsupported(channel)


def _bounded(text: str) -> str:
    pieces = split_for_connect(text)
    if len(pieces) <= MAX_TEXT_PIECES:
        return text
    log_event(_log, "customer_text_truncated", pieces=len(pieces))
    return "\n".join(pieces[: MAX_TEXT_PIECES - 1]) + "\n[message truncated]"
