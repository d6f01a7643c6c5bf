"""Use case: a customer's Messenger event -> redacted -> the agent's Amazon Connect chat, exactly once.

    handle(event) -> Outcome          (or raises TransientError / ConfigurationError: answer 5xx)

- Echoes (the Page's own messages) are ignored before anything else: never a chat for the Page itself.
- Standby items, deliveries, reads, reactions and other known events are ignored and counted.
- Text, quick replies (their title), postbacks (their title; *Get Started* opens the chat) and
  attachments are delivered: claim the message id in the dedupe log, redact, find or start the chat,
  send with ClientTokens derived from the message id, record the session, complete the claim.
- A chat that ended or a token Connect no longer accepts (`ChatGone`) is recovered once: the session is
  dropped, a new chat started, the message delivered there.
- Concurrent first messages start ONE chat: one request wins the conditional start, the others wait
  (briefly) for it and then send on it; a crashed start is taken over after its lease.
- Transient failures release the claim and propagate, so Meta's retry delivers the message once;
  permanent ones complete the claim with a reason code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from chalicelib.logs import get_logger, log_event
from chalicelib.messaging.connect.chat import ChatGone, client_token, split_for_connect
from chalicelib.messaging.errors import PermanentError, TransientError
from chalicelib.messaging.meta.webhook import (
    Attachments,
    CustomerMessage,
    Echo,
    Event,
    Postback,
    QuickReplyTap,
    Text,
    Unparseable,
    message_key,
)
from chalicelib.messaging.once import Once
from chalicelib.messaging.ports import AgentChat, AttachmentForwarder, Dedupe, Sessions, TextRedactor
from chalicelib.messaging.store.sessions import SESSION_MARGIN_SECONDS, ChatSession, CustomerRecord, CustomerState
from chalicelib.redaction.redactor import RedactionContext, RedactionUnavailable

CHANNEL = "messenger"
DEDUPE_SCOPE = "inbound"
DISPLAY_NAME = "Messenger customer"  # what the agent sees; never the PSID
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

    def handle(self, event: Event) -> Outcome:
        if isinstance(event, Echo):
            return Outcome("ignored", "echo")
        if isinstance(event, Unparseable):
            return Outcome("rejected", event.reason)
        if event.origin.standby:
            return Outcome("ignored", "standby")
        if not isinstance(event, (Text, QuickReplyTap, Postback, Attachments)):
            return Outcome("ignored", event.kind)
        return self._deliver_once(event)

    # -- exactly once

    def _deliver_once(self, event: CustomerMessage) -> Outcome:
        key = message_key(event)
        outcome = self._once.run(
            key, lambda: self._deliver_or_reject(event, key), _completion, busy="message_in_progress"
        )
        return Outcome("duplicate", event.kind) if outcome is None else outcome

    def _deliver_or_reject(self, event: CustomerMessage, key: str) -> Outcome:
        try:
            return self._deliver(event, key)
        except PermanentError as exc:
            return Outcome("rejected", exc.reason)

    # -- delivery

    def _deliver(self, event: CustomerMessage, key: str) -> Outcome:
        customer_id = event.origin.sender_id
        record = self._sessions.customer(CHANNEL, customer_id, self._clock())
        texts, context = self._redact(event, record)

        session, fresh = self._ready_session(customer_id, key, record)
        try:
            self._send(session, event, texts, key)
        except ChatGone as gone:
            if fresh:
                raise PermanentError("chat_refused", gone.code) from None
            log_event(_log, "chat_gone", contact_id=session.contact_id, error=gone.code, stage="send")
            self._sessions.end_contact(session.contact_id, self._clock())
            record = self._sessions.customer(CHANNEL, customer_id, self._clock())
            session, _ = self._ready_session(customer_id, key, record, recovering=True)
            try:
                self._send(session, event, texts, key)
            except ChatGone as again:
                raise PermanentError("chat_refused", again.code) from None

        self._sessions.touch(session, self._clock(), context.to_item())
        return Outcome("delivered", event.kind, session.contact_id)

    def _redact(self, event: CustomerMessage, record: CustomerRecord | None) -> tuple[list[str], RedactionContext]:
        """Every customer word goes through the redactor before Connect; the context carries over
        between messages of one chat (e.g. "my card number is" ... "4111 ...")."""
        context = RedactionContext.from_item(record.session.redaction if record and record.session else None)
        texts = []
        for text in _customer_texts(event):
            try:
                redaction = self._redactor.redact(text, context, self._clock())
            except RedactionUnavailable:
                raise TransientError("redaction_unavailable") from None
            context = redaction.context
            if redaction.changed:
                log_event(_log, "customer_text_redacted", entities=dict(redaction.entity_counts))
            texts.append(redaction.text)
        return texts, context

    def _send(self, session: ChatSession, event: CustomerMessage, texts: list[str], key: str) -> None:
        # Tokens include the contact: after a recovery the same message goes to a new chat.
        if isinstance(event, Attachments):
            for index, attachment in enumerate(event.attachments):
                self._attachments.forward(
                    session, attachment, client_token(key, session.contact_id, "file", str(index))
                )
        for index, text in enumerate(texts):
            self._chat.send_text(
                session.connection_token, _bounded(text), client_token(key, session.contact_id, str(index))
            )

    # -- the chat a message goes to

    def _ready_session(
        self, customer_id: str, key: str, record: CustomerRecord | None, recovering: bool = False
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
                    self._sessions.end_contact(record.session.contact_id, now)
            elif record is None or record.state is CustomerState.ENDED or record.start_lease_expired(now):
                # A start that crashed is taken over with ITS token: Connect then returns the same contact.
                taken_over = (
                    record.start_token if record is not None and record.state is CustomerState.STARTING else None
                )
                token = taken_over or client_token("start", CHANNEL, customer_id, key)
                version = record.version if record is not None else None
                if self._sessions.claim_start(CHANNEL, customer_id, token, now, self._start_lease, version):
                    return self._open_chat(customer_id, token, (version or 0) + 1, now), True
            elif time.monotonic() >= deadline:
                raise TransientError("chat_starting")  # another request is starting it; Meta retries
            else:
                self._sleep(0.05)
            record = self._sessions.customer(CHANNEL, customer_id, self._clock())

    def _connected(self, session: ChatSession, now: float) -> ChatSession:
        """The session with a ConnectionToken that will not expire mid-call (renewed from the
        participant token, which lives as long as the chat)."""
        if session.connection_valid(now):
            return session
        connection = self._chat.create_connection(session.participant_token)
        updated = self._sessions.update_connection(session, connection.connection_token, connection.expires_at)
        log_event(_log, "chat_connection_renewed", contact_id=session.contact_id)
        if updated is None:  # ended or replaced meanwhile: the next call will tell
            return replace(
                session, connection_token=connection.connection_token, connection_expires_at=connection.expires_at
            )
        return updated

    def _open_chat(self, customer_id: str, token: str, version: int, now: float) -> ChatSession:
        started = self._chat.start_chat(CHANNEL, DISPLAY_NAME, token)
        self._chat.start_streaming(started.contact_id)
        try:
            connection = self._chat.create_connection(started.participant_token)
        except ChatGone as gone:
            # The flow ended the brand-new chat at once: do not take this start over again.
            self._sessions.abandon_start(CHANNEL, customer_id, token, version, now)
            raise PermanentError("chat_refused", gone.code) from None
        session = ChatSession(
            channel=CHANNEL,
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


def _customer_texts(event: CustomerMessage) -> list[str]:
    if isinstance(event, (Text, QuickReplyTap)):
        return [event.text]
    if isinstance(event, Postback):
        # The title is what the customer tapped; the payload is the Page developer's, not theirs.
        return [event.title or "[customer tapped a button]"]
    if isinstance(event, Attachments) and event.text:
        return [event.text]
    return []


def _bounded(text: str) -> str:
    pieces = split_for_connect(text)
    if len(pieces) <= MAX_TEXT_PIECES:
        return text
    log_event(_log, "customer_text_truncated", pieces=len(pieces))
    return "\n".join(pieces[: MAX_TEXT_PIECES - 1]) + "\n[message truncated]"
