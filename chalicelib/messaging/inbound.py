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
- One message of a customer at a time (a turn in the session store, under a lease): the redaction context
  a message is redacted with includes the customer's previous message, and is stored, with a versioned
  write, before anything is sent (a card number split over two messages in flight: issue 17). Waiting
  for the turn is bounded; then the answer is 503 and Meta retries.
- Only what can reach the agent is redacted: each text is cut first to 8 x 1,024 characters, outside any
  number, with a visible note (issue 17: redacting 1 MB whole took 79 s).
- Concurrent first messages start ONE chat: one request wins the conditional start, the others wait
  (briefly) for it and then send on it; a crashed start is taken over after its lease.
- Transient failures release the claim and propagate, so Meta's retry delivers the message once;
  permanent ones complete the claim with a reason code.
- Attachment downloads take their time from the webhook call's one `Deadline` (deadline.py), handed in.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from chalicelib.logs import get_logger, log_event
from chalicelib.messaging import content_notes
from chalicelib.messaging.connect.chat import TEXT_LIMIT, ChatGone, client_token, split_for_connect
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
from chalicelib.messaging.text_units import utf16_prefix, utf16_units
from chalicelib.redaction.redactor import RedactionContext, RedactionUnavailable

DEDUPE_SCOPE = "inbound"
# What the agent sees as the customer's name: the channel, never the PSID / IGSID.
DISPLAY_NAMES = {"messenger": "Messenger customer", "instagram": "Instagram customer"}
# Attachments relayed as files; everything else (links, posts, stickers, locations) is words for the agent.
MEDIA_TYPES = frozenset({"image", "video", "audio", "file"})
MAX_TEXT_PIECES = 8  # 8 x 1024 chars reach the agent; the rest is cut with a visible note
TRUNCATION_NOTE = "\n[message truncated]"  # no digit: it can never complete a number
MAX_CONTEXT_ATTEMPTS = 4  # versioned writes of the redaction context lost to another message, then 503
TURN_POLL_SECONDS = (0.05, 0.1, 0.2, 0.4)  # waits between attempts at the customer's turn (then the last)
START_POLL_ATTEMPTS = 200  # bound on the start loop's rounds, whatever the clocks say

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
        turn_wait_seconds: float = 5.0,
        reorder_seconds: float = 1.0,
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
        self._turn_wait = turn_wait_seconds
        self._reorder = reorder_seconds
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
        """Queue for the customer's turn first (before the dedupe claim: the earliest point, so a message sent
        just after this one finds it queued), then claim, deliver in turn, complete. A transient failure keeps
        the message queued: what the customer sent later waits for Meta's retry of it (at most
        `TURN_QUEUE_SECONDS` from its first attempt), instead of going first with a context that lacks it."""
        key = message_key(event)
        channel = event.origin.channel
        customer_id = CustomerAddress.of(event.origin).customer_id
        self._sessions.queue_for_turn(channel, customer_id, key, event.origin.timestamp_ms, self._clock())
        try:
            outcome = self._once.run(
                key, lambda: self._in_turn(event, key, deadline), _completion, busy="message_in_progress"
            )
        except TransientError:
            raise  # still queued (see above)
        except BaseException:
            self._leave_queue(channel, customer_id, key)
            raise
        if outcome is None:  # a duplicate: the work (and its leaving the queue) did not run
            self._leave_queue(channel, customer_id, key)
            return Outcome("duplicate", event.kind)
        return outcome

    def _leave_queue(self, channel: str, customer_id: str, key: str) -> None:
        try:
            self._sessions.leave_queue(channel, customer_id, key)
        except MessagingError as problem:  # the entry goes stale on its own; the answer matters more
            log_event(_log, "turn_queue_leave_failed", logging.WARNING, reason=problem.reason)

    def _in_turn(self, event: CustomerMessage, key: str, deadline: Deadline) -> Outcome:
        """Deliver while holding the customer's turn, taken in the order the customer sent the messages
        (Meta's timestamps): the second half of a split card number is redacted with the context its first
        half stored, even when the second webhook arrives first. A message sent less than
        `reorder_seconds` ago first waits that long, so one sent just before it can queue. Every wait is
        bounded by a number of attempts (never by a clock alone: tests freeze clocks) and by the webhook
        call's deadline; then 503, and Meta retries. Only a message with a digit waits for the reorder: card
        context changes how digits are masked and nothing else, so the others go at once (in turn)."""
        channel = event.origin.channel
        customer_id = CustomerAddress.of(event.origin).customer_id
        holder = uuid.uuid4().hex
        sent_at_ms = event.origin.timestamp_ms
        if _has_digit(event, self._location_precision):  # only digits depend on an earlier message's context
            settle = min(self._reorder, sent_at_ms / 1000 + self._reorder - self._clock(), deadline.remaining())
            if settle > 0:
                self._sleep(settle)
        for pause in _pauses(self._turn_wait):
            now = self._clock()
            if self._sessions.take_turn(channel, customer_id, holder, now, self._start_lease, sent_at_ms, key):
                break
            if pause is None or deadline.expired():
                raise TransientError("customer_busy")
            self._sleep(pause)
        done = False
        try:
            outcome = self._deliver_or_reject(event, key, deadline)
            done = True
            return outcome
        finally:
            try:
                self._sessions.give_back_turn(channel, customer_id, holder, key if done else "")
            except MessagingError as problem:  # the lease runs out on its own; the delivery's answer matters more
                log_event(_log, "turn_give_back_failed", logging.WARNING, reason=problem.reason)

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
        redacted = self._redact(event, key, record)

        session, fresh = self._ready_session(channel, customer_id, key, record)
        session, redacted = self._store_context(event, key, session, redacted)
        try:
            self._send(session, event, redacted.texts, key, deadline)
        except ChatGone as gone:
            if fresh:
                raise PermanentError("chat_refused", gone.code) from None
            session = self._recover(session, gone, channel, customer_id, key)
            session, redacted = self._store_context(event, key, session, redacted)
            try:
                self._send(session, event, redacted.texts, key, deadline)
            except ChatGone as again:
                raise PermanentError("chat_refused", again.code) from None
        self._forget_choices(redacted.chosen)
        return Outcome("delivered", event.kind, session.contact_id)

    def _forget_choices(self, chosen: tuple[str, str] | None) -> None:
        """The numbered list the customer answered is cleared once the answer is delivered (not when it is
        read: a retry maps the number the same way), and only if no other list was offered since."""
        if chosen is None or self._choices is None:
            return
        try:
            self._choices.forget(*chosen)
        except MessagingError as problem:  # the list expires on its own; the answer was delivered
            log_event(_log, "choices_forget_failed", logging.WARNING, reason=problem.reason)

    def _store_context(
        self, event: CustomerMessage, key: str, session: ChatSession, redacted: _Redacted
    ) -> tuple[ChatSession, _Redacted]:
        """Store the context after this message BEFORE anything is sent, over the version it was redacted
        with. Another message of this customer stored its context meanwhile (a turn whose lease ran out):
        read it, redact again, store again; a bounded number of times, then 503."""
        for _ in range(MAX_CONTEXT_ATTEMPTS):
            if redacted.version == session.redaction_version and self._sessions.store_redaction(
                session, self._clock(), redacted.after.to_item(), key, redacted.before.to_item()
            ):
                after = replace(
                    session, redaction=redacted.after.to_item(), redaction_version=session.redaction_version + 1
                )
                return after, redacted
            record = self._sessions.customer(session.channel, session.customer_id, self._clock())
            if record is None or record.session is None or record.session.contact_id != session.contact_id:
                raise TransientError("session_changed")
            session = replace(
                record.session,
                connection_token=session.connection_token,
                connection_expires_at=session.connection_expires_at,
            )
            redacted = self._redact(event, key, record)
        raise TransientError("redaction_context_contended")

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

    def _redact(self, event: CustomerMessage, key: str, record: CustomerRecord | None) -> _Redacted:
        """Every customer word goes through the redactor before Connect; the context carries over
        between messages of one chat (e.g. "my card number is" ... "4111 ..."). Only what can reach the
        agent is redacted: each text is cut first (issue 17: redacting 1 MB whole took 79 s)."""
        session = record.session if record is not None else None
        before = RedactionContext.from_item(session.redaction_for(key) if session is not None else None)
        context = before
        texts = []
        chosen_texts, chosen = self._as_chosen(event, record)
        for text in chosen_texts or _customer_texts(event, self._location_precision):
            try:
                redaction = self._redactor.redact(truncated(text), context, self._clock())
            except RedactionUnavailable:
                raise TransientError("redaction_unavailable") from None
            context = redaction.context
            if redaction.changed:
                log_event(_log, "customer_text_redacted", entities=dict(redaction.entity_counts))
            texts.append(redaction.text)
        version = session.redaction_version if session is not None else 0
        return _Redacted(texts, before, context, version, chosen)

    def _as_chosen(
        self, event: CustomerMessage, record: CustomerRecord | None
    ) -> tuple[list[str], tuple[str, str] | None]:
        """A bare number answering the numbered list the customer was last offered: the option itself, as
        the agent or bot offered it (rendering.py sends lists too long for quick replies as numbers), and
        which list it was, to clear once delivered. Reading has no effect: a retry (Meta's, or a redaction
        redone after a concurrent write) maps the number the same way (it was cleared here, so a retry sent
        the bare number)."""
        if self._choices is None or not isinstance(event, Text) or record is None or record.session is None:
            return [], None
        answer = event.text.strip().rstrip(".")
        if not answer.isdigit() or len(answer) > 2:
            return [], None
        contact_id = record.session.contact_id
        offered = self._choices.recall(contact_id, self._clock())
        if not 1 <= int(answer) <= len(offered.titles):
            return [], None
        return [offered.titles[int(answer) - 1]], (contact_id, offered.list_id)

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
        for _ in range(START_POLL_ATTEMPTS):
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
            elif record is None or record.state is not CustomerState.ACTIVE or record.start_lease_expired(now):
                # A start that failed or crashed is taken over with ITS token: Connect then returns the same
                # contact. This runs in the customer's turn (`_in_turn`), so a chat still `starting` is no
                # other live attempt's: it is taken over at once, not after its lease (before: 503s for up to
                # 30 s after a Connect call failed during a start; p99 32 s in `make chaos`).
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
        raise TransientError("chat_starting")  # bounded whatever the clocks do (a frozen test clock, say)

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


@dataclass(frozen=True)
class _Redacted:
    texts: list[str]
    before: RedactionContext  # the context the texts were redacted with
    after: RedactionContext  # the context after them
    version: int  # the stored context's version `before` was read at
    chosen: tuple[str, str] | None = None  # (contact id, list id): the numbered list the text answered


def _has_digit(event: CustomerMessage, location_precision: str) -> bool:
    """A digit in what can reach the agent: each text as `truncated` cuts it (a digit past the cut is never
    shown, so no context can matter for it). Reading the whole text cost 1 MiB of Python steps per
    message (60 ms, ahead of the cut-and-redact path's 2 ms): the work is bounded by what is sent."""
    for text in _customer_texts(event, location_precision):
        cut = _cut(text, MAX_TEXT_PIECES * TEXT_LIMIT)
        if any(map(str.isdigit, text if cut is None else text[:cut])):
            return True
    return False


def _pauses(total_seconds: float) -> Iterator[float | None]:
    """The waits between attempts at a customer's turn: growing, summing to about `total_seconds`, then None
    (give up). A finite sequence: the number of attempts is bounded whatever the clocks and sleeps do."""
    waited = 0.0
    for index in range(1000):
        pause = TURN_POLL_SECONDS[min(index, len(TURN_POLL_SECONDS) - 1)]
        if waited + pause > total_seconds:
            break
        waited += pause
        yield pause
    yield None


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


_NUMBER_SEPARATORS = frozenset(" -./,:\u00a0")
_SEPARATOR_WINDOW = 3  # "4111 - 1111": more separators than this end a number


def truncated(text: str, limit: int = MAX_TEXT_PIECES * TEXT_LIMIT) -> str:
    """At most `limit` UTF-16 units (note included), cut outside any number. A cut through a card number
    would leave a fragment the detectors cannot validate, shown to the agent unmasked: when the cut falls
    in a number, it moves back before the whole run of digits and separators (at most `limit` steps:
    linear). The redactor then sees only what can reach the agent (issue 17)."""
    cut = _cut(text, limit)
    if cut is None:
        return text
    log_event(_log, "customer_text_truncated", length=len(text), kept=cut)
    return text[:cut] + TRUNCATION_NOTE


def _cut(text: str, limit: int) -> int | None:
    """Where `truncated` cuts `text` (the note goes after it), or None when it fits."""
    if len(text) <= limit // 2 or utf16_units(text) <= limit:
        return None
    cut = len(utf16_prefix(text, limit - len(TRUNCATION_NOTE)))
    if _splits_a_number(text, cut):
        while cut > 0 and (text[cut - 1].isdigit() or text[cut - 1] in _NUMBER_SEPARATORS):
            cut -= 1
    return cut


def _splits_a_number(text: str, cut: int) -> bool:
    """A digit before the cut (past at most a few separators) and a digit or letter after it (likewise):
    "4111 1111|1111", "4111 |1111", "DE89|3704", "12/|28"."""
    left = cut - 1
    while left >= 0 and cut - left <= _SEPARATOR_WINDOW and text[left] in _NUMBER_SEPARATORS:
        left -= 1
    if left < 0 or not text[left].isdigit():
        return False
    right = cut
    while right < len(text) and right - cut < _SEPARATOR_WINDOW and text[right] in _NUMBER_SEPARATORS:
        right += 1
    return right < len(text) and text[right].isalnum()


def _bounded(text: str) -> str:
    pieces = split_for_connect(text)
    if len(pieces) <= MAX_TEXT_PIECES:
        return text
    log_event(_log, "customer_text_truncated", pieces=len(pieces))
    return "\n".join(pieces[: MAX_TEXT_PIECES - 1]) + "\n[message truncated]"
