"""Session store on DynamoDB: customer <-> Connect contact, tokens, expiry.

One table (`SESSIONS_TABLE`, key `pk` String, TTL `expires_at`), three kinds of item:

- customer  `customer#<channel>#<customer id>`: the customer's current chat. `state` is `starting` while
  one request holds the right to start it (a lease, so a crashed attempt can be taken over), `active`
  with the contact id and tokens, or `ended`. `version` grows on every (re)start: conditional writes
  on it make two concurrent first messages start ONE chat.
- contact   `contact#<initial contact id>`: channel + customer id, so the outbound handler finds the
  customer from a stream message's `InitialContactId`. Written in the same transaction as the customer
  item turns `active`; kept for a grace period after the chat ends so late goodbye messages still reach
  the customer.
- turn      `turn#<channel>#<customer id>`: who is handling this customer's messages right now (a holder
  token under a lease), and the messages waiting for it (`q`: holder -> Meta's timestamp). One message of
  a customer at a time, in the order the customer sent them, so the redaction context used for message
  N+1 includes message N (a card number split over two messages in flight: issue 17). `v` grows with
  every write: the turn is taken over the version read.
- dedupe    `dedupe#<scope>#<sha256 of key>`: the dedupe log's items (store/dedupe.py).

The redaction context in the customer item (`redaction`: flags, counts and times, never a digit) is
written only over the `redaction_version` it was read with: a read-modify-write that lost a race is told
so and reads again. `redaction_by` (a hash of the message key that wrote it) and `redaction_before` (the
context it was redacted with) let a retry of that same message be redacted exactly as the first time.

Every read is strongly consistent. Every item carries `expires_at`; DynamoDB's TTL deletes lazily (up to
days later), so reads treat an item past its `expires_at` as absent.

Only the tokens a session needs are stored (DESIGN.md); no message text, no PII.
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.messaging.errors import TransientError
from chalicelib.messaging.store.table import Table

ENDED_RETENTION_SECONDS = 3600  # late SYSTEM messages (goodbye, survey) after the chat ended
STARTING_RETENTION_SECONDS = 3600
SESSION_MARGIN_SECONDS = 3600  # a chat cannot outlive its ChatDurationInMinutes; keep an hour beyond
TURN_QUEUE_SECONDS = 30.0  # a queued message not heard of for this long (a crashed Lambda) no longer goes first


# --------------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ChatSession:
    """A customer's Connect chat. Tokens are bearer credentials: never logged (`repr` hides them)."""

    channel: str
    customer_id: str
    contact_id: str
    participant_token: str = field(repr=False)
    connection_token: str = field(repr=False)
    connection_expires_at: float
    last_customer_message_at: float
    expires_at: int
    redaction: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # Grows with every stored redaction context: `store_redaction` writes only over the version it read.
    redaction_version: int = field(default=0, compare=False)
    redaction_by: str = field(default="", repr=False, compare=False)  # message_digest() of its writer
    redaction_before: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # True when the chat has ended: late messages from Connect may still go to the customer, but
    # nothing may be sent to Connect on it (the tokens are then empty).
    ended: bool = False

    def connection_valid(self, now: float, margin_seconds: float = 60.0) -> bool:
        return bool(self.connection_token) and self.connection_expires_at - margin_seconds > now

    def redaction_for(self, message: str) -> Mapping[str, Any]:
        """The context to redact `message` (a message key) with: the stored one, or, when this very message
        stored it (a retry after a failure later on), the one it was redacted with the first time."""
        if self.redaction_by and self.redaction_by == message_digest(message):
            return self.redaction_before
        return self.redaction


class CustomerState(str, enum.Enum):
    STARTING = "starting"
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True)
class CustomerRecord:
    """What the store knows about one customer, for deciding whether to start a chat."""

    channel: str
    customer_id: str
    state: CustomerState
    version: int
    session: ChatSession | None  # set when ACTIVE
    start_token: str | None = field(default=None, repr=False)
    start_lease_until: float = 0.0

    def start_lease_expired(self, now: float) -> bool:
        return self.state is CustomerState.STARTING and self.start_lease_until <= now


# --------------------------------------------------------------------------------------------- keys


def customer_key(channel: str, customer_id: str) -> str:
    return f"customer#{channel}#{customer_id}"


def contact_key(contact_id: str) -> str:
    return f"contact#{contact_id}"


def turn_key(channel: str, customer_id: str) -> str:
    return f"turn#{channel}#{customer_id}"


def _holder_name(holder: str) -> str:
    """A queue entry's attribute name: the holder token (random hex), prefixed so it is never a number."""
    return "h" + "".join(ch for ch in holder if ch.isalnum())[:40]


def message_digest(message: str) -> str:
    """What the customer item keeps of a message key (mids may embed the PSID): a hash."""
    return hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# --------------------------------------------------------------------------------------------- store


class SessionStore:
    """Customer and contact items. Methods raise `TransientError` (throttling, 5xx) or
    `ConfigurationError` (missing table, no permission); conflicts are answered by return values."""

    def __init__(self, client: Any, table: str):
        self._db = Table(client, table)

    # -- reads

    def customer(self, channel: str, customer_id: str, now: float) -> CustomerRecord | None:
        item = self._db.get(customer_key(channel, customer_id), now)
        return None if item is None else _customer_record(item)

    def find_by_contact(self, initial_contact_id: str, now: float | None = None) -> ChatSession | None:
        """The session of a Connect contact; `ended=True` (empty tokens) once that chat is over but the
        contact item is still within its grace period; None when unknown."""
        now = _now() if now is None else now
        contact = self._db.get(contact_key(initial_contact_id), now)
        if contact is None:
            return None
        channel, customer_id = contact["channel"], contact["customer_id"]
        customer = self._db.get(customer_key(channel, customer_id), now)
        if customer is not None:
            record = _customer_record(customer)
            if record.session is not None and record.session.contact_id == initial_contact_id:
                return record.session
        return ChatSession(
            channel=channel,
            customer_id=customer_id,
            contact_id=initial_contact_id,
            participant_token="",
            connection_token="",
            connection_expires_at=0.0,
            last_customer_message_at=float((customer or {}).get("last_customer_message_at", 0)),
            expires_at=int(contact["expires_at"]),
            ended=True,
        )

    # -- starting a chat

    def claim_start(
        self,
        channel: str,
        customer_id: str,
        start_token: str,
        now: float,
        lease_seconds: float,
        expected_version: int | None,
    ) -> bool:
        """Take the right to start this customer's chat. True for exactly one of concurrent callers
        that saw the same `expected_version` (None: they saw no item, or an expired one)."""
        item = {
            "pk": customer_key(channel, customer_id),
            "kind": "customer",
            "channel": channel,
            "customer_id": customer_id,
            "state": CustomerState.STARTING.value,
            "version": (expected_version or 0) + 1,
            "start_token": start_token,
            "start_lease_until": now + lease_seconds,
            "expires_at": int(now + STARTING_RETENTION_SECONDS),
        }
        if expected_version is None:
            condition = "attribute_not_exists(pk) OR expires_at <= :now"  # as `get` reads it: expired is absent
            values = {":now": now}
        else:
            condition = "version = :expected"
            values = {":expected": expected_version}
        return self._db.put(item, condition, values)

    def activate(self, session: ChatSession, start_token: str, version: int, now: float) -> bool:
        """Record the started chat: customer item `active` and contact item, atomically. False when
        the start slot was taken over meanwhile (our lease ran out)."""
        customer = {
            "pk": customer_key(session.channel, session.customer_id),
            "kind": "customer",
            "channel": session.channel,
            "customer_id": session.customer_id,
            "state": CustomerState.ACTIVE.value,
            "version": version,
            "contact_id": session.contact_id,
            "participant_token": session.participant_token,
            "connection_token": session.connection_token,
            "connection_expires_at": session.connection_expires_at,
            "last_customer_message_at": session.last_customer_message_at,
            "redaction": dict(session.redaction),
            "started_at": now,
            "expires_at": session.expires_at,
        }
        contact = {
            "pk": contact_key(session.contact_id),
            "kind": "contact",
            "channel": session.channel,
            "customer_id": session.customer_id,
            "contact_id": session.contact_id,
            "expires_at": session.expires_at,
        }
        return self._db.transact_put(
            (customer, "version = :v AND start_token = :t", {":v": version, ":t": start_token}),
            (contact, None, None),
        )

    def abandon_start(self, channel: str, customer_id: str, start_token: str, version: int, now: float) -> None:
        """Give up a start that Connect refused: the customer's next message starts afresh (a new
        token) instead of taking this one over."""
        self._db.update(
            customer_key(channel, customer_id),
            "SET #state = :ended, expires_at = :expires REMOVE start_token",
            {":ended": "ended", ":expires": int(now + STARTING_RETENTION_SECONDS), ":v": version, ":t": start_token},
            "version = :v AND start_token = :t",
        )

    # -- an active chat

    def update_connection(self, session: ChatSession, connection_token: str, expires_at: float) -> ChatSession | None:
        """Store a refreshed ConnectionToken. None when the session is no longer the customer's current one."""
        updated = self._db.update(
            customer_key(session.channel, session.customer_id),
            "SET connection_token = :token, connection_expires_at = :expiry",
            {":token": connection_token, ":expiry": expires_at, ":contact": session.contact_id, ":active": "active"},
            "contact_id = :contact AND #state = :active",
        )
        if not updated:
            return None
        return replace(session, connection_token=connection_token, connection_expires_at=expires_at)

    def store_redaction(
        self,
        session: ChatSession,
        at: float,
        redaction: Mapping[str, Any],
        message: str = "",
        before: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record a customer message: its time (the 24 h window) and the redaction context after it, written
        only over the `redaction_version` `session` was read with. False when another message of this
        customer stored its context meanwhile, or the chat is no longer current: read again, redact again.
        (Before issue 17 the write was unconditional, after sending: two messages in flight both redacted
        with the context before either, and a split card number reached the agent in two pieces.)"""
        expected = session.redaction_version
        holds = (
            "(attribute_not_exists(redaction_version) OR redaction_version = :expected)"
            if expected == 0
            else "redaction_version = :expected"
        )
        return self._db.update(
            customer_key(session.channel, session.customer_id),
            "SET last_customer_message_at = :at, redaction = :redaction, redaction_version = :next, "
            "redaction_by = :by, redaction_before = :before",
            {
                ":at": at,
                ":redaction": dict(redaction),
                ":next": expected + 1,
                ":by": message_digest(message) if message else "",
                ":before": dict(before or {}),
                ":contact": session.contact_id,
                ":active": "active",
                ":expected": expected,
            },
            f"contact_id = :contact AND #state = :active AND {holds}",
        )

    # -- one message of a customer at a time, in the order the customer sent them

    def queue_for_turn(self, channel: str, customer_id: str, holder: str, sent_at_ms: int, now: float) -> None:
        """Say that a message sent at `sent_at_ms` (Meta's timestamp) waits for this customer's turn: a
        message sent later does not take the turn before it (`take_turn`). Entries are dropped by
        `give_back_turn`; a crashed holder's entry is ignored once `TURN_QUEUE_SECONDS` old."""
        pk = turn_key(channel, customer_id)
        entry = {"sent": int(sent_at_ms), "at": now}
        names = {"#h": _holder_name(holder)}
        expires = int(now + STARTING_RETENTION_SECONDS)
        for _ in range(3):  # the item is created by the first message; a race for it is retried once or twice
            if self._db.update(
                pk,
                "SET q.#h = :entry, expires_at = :exp ADD v :one",
                {":entry": entry, ":exp": expires, ":one": 1},
                "attribute_exists(q)",
                names,
            ):
                return
            item = {"pk": pk, "kind": "turn", "q": {_holder_name(holder): entry}, "v": 1, "expires_at": expires}
            if self._db.put(item, "attribute_not_exists(pk) OR expires_at <= :now", {":now": now}):
                return
        raise TransientError("sessions_contended")

    def take_turn(
        self, channel: str, customer_id: str, holder: str, now: float, lease_seconds: float, sent_at_ms: int = 0
    ) -> bool:
        """The right to redact and send this customer's next message. True when nobody holds it (or the
        holder's lease ran out, or `holder` holds it already: a retried write) and no live message queued
        for it was sent before this one. Atomic: written over the version read, so a message queued
        meanwhile is seen on the next attempt."""
        pk = turn_key(channel, customer_id)
        item = self._db.get(pk, now)
        if item is None:
            item = {}
        current = item.get("holder")
        if current and current != holder and float(item.get("lease_until", 0)) >= now:
            return False
        me = (int(sent_at_ms), _holder_name(holder))
        for name, entry in (item.get("q") or {}).items():
            if not isinstance(entry, dict) or name == me[1]:
                continue
            live = float(entry.get("at", 0)) + TURN_QUEUE_SECONDS >= now
            if live and (int(entry.get("sent", 0)), name) < me:
                return False  # a message sent before this one is waiting: it goes first
        values = {":me": holder, ":until": now + lease_seconds, ":exp": int(now + STARTING_RETENTION_SECONDS)}
        if "v" in item:
            condition, values[":v"] = "v = :v", int(item["v"])
        else:
            condition = "attribute_not_exists(v)"
        return self._db.update(
            pk,
            # q always exists once the turn was taken: give_back_turn removes its own entry from it
            "SET holder = :me, lease_until = :until, expires_at = :exp, q = if_not_exists(q, :empty) ADD v :one",
            {**values, ":one": 1, ":empty": {}},
            condition,
        )

    def give_back_turn(self, channel: str, customer_id: str, holder: str) -> None:
        """Leave the queue, and give the turn back if we hold it (only our own: a turn whose lease ran out
        and that another message took is left alone)."""
        pk = turn_key(channel, customer_id)
        names = {"#h": _holder_name(holder)}
        if not self._db.update(
            pk, "REMOVE holder, lease_until, q.#h ADD v :one", {":one": 1, ":me": holder}, "holder = :me", names
        ):
            self._db.update(pk, "REMOVE q.#h ADD v :one", {":one": 1}, "attribute_exists(q)", names)

    def end_contact(self, initial_contact_id: str, now: float | None = None) -> None:
        """The chat is over (ended event, or Connect refused its tokens). The customer's next message
        starts a new chat; the contact item stays `ENDED_RETENTION_SECONDS` for late messages."""
        now = _now() if now is None else now
        contact = self._db.get(contact_key(initial_contact_id), now)
        if contact is None:
            return
        grace = int(now + ENDED_RETENTION_SECONDS)
        self._db.update(
            customer_key(contact["channel"], contact["customer_id"]),
            "SET #state = :ended, expires_at = :grace REMOVE participant_token, connection_token",
            {":ended": "ended", ":grace": grace, ":contact": initial_contact_id, ":active": "active"},
            "contact_id = :contact AND #state = :active",
        )
        self._db.update(
            contact_key(initial_contact_id),
            "SET ended = :true, expires_at = :grace",
            {":true": True, ":grace": grace},
            "attribute_exists(pk)",
        )


# --------------------------------------------------------------------------------------------- internals


def _now() -> float:
    return time.time()


def _customer_record(item: Mapping[str, Any]) -> CustomerRecord:
    state = CustomerState(item.get("state", "ended"))
    session = None
    if state is CustomerState.ACTIVE:
        session = ChatSession(
            channel=item["channel"],
            customer_id=item["customer_id"],
            contact_id=item["contact_id"],
            participant_token=item.get("participant_token", ""),
            connection_token=item.get("connection_token", ""),
            connection_expires_at=float(item.get("connection_expires_at", 0)),
            last_customer_message_at=float(item.get("last_customer_message_at", 0)),
            expires_at=int(item["expires_at"]),
            redaction=item.get("redaction") or {},
            redaction_version=int(item.get("redaction_version", 0)),
            redaction_by=str(item.get("redaction_by") or ""),
            redaction_before=item.get("redaction_before") or {},
        )
    return CustomerRecord(
        channel=item["channel"],
        customer_id=item["customer_id"],
        state=state,
        version=int(item.get("version", 0)),
        session=session,
        start_token=item.get("start_token"),
        start_lease_until=float(item.get("start_lease_until", 0)),
    )
