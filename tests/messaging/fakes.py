"""In-memory stand-ins for the messaging adapters (session store, dedupe log, Connect chat), with the same
semantics as the real ones: conditional starts, leases, expiry. Thread safe. Used by fuzz tests and by
benchmarks/bench_inbound.py, where the real adapters would measure moto or the network instead of our code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.messaging.connect.chat import Connection, StartedChat
from chalicelib.messaging.deadline import Deadline
from chalicelib.messaging.ports import IncomingAttachment
from chalicelib.messaging.store.dedupe import DEDUPE_RETENTION_SECONDS, Claim
from chalicelib.messaging.store.sessions import (
    ENDED_RETENTION_SECONDS,
    ChatSession,
    CustomerRecord,
    CustomerState,
)

# Each class satisfies its Protocol in chalicelib/messaging/ports.py (Sessions, Dedupe, AgentChat,
# AttachmentForwarder) with the same signatures: mypy checks them wherever a test or a benchmark passes them in.


class MemorySessions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.customers: dict[tuple[str, str], CustomerRecord] = {}
        self.contacts: dict[str, tuple[str, str, int, bool]] = {}
        self.turns: dict[tuple[str, str], tuple[str, float]] = {}
        self.queued: dict[tuple[str, str], dict[str, int]] = {}

    def customer(self, channel: str, customer_id: str, now: float) -> CustomerRecord | None:
        return self.customers.get((channel, customer_id))

    def claim_start(
        self,
        channel: str,
        customer_id: str,
        start_token: str,
        now: float,
        lease_seconds: float,
        expected_version: int | None,
    ) -> bool:
        with self._lock:
            current = self.customers.get((channel, customer_id))
            if (current.version if current else None) != expected_version:
                return False
            self.customers[(channel, customer_id)] = CustomerRecord(
                channel,
                customer_id,
                CustomerState.STARTING,
                (expected_version or 0) + 1,
                None,
                start_token,
                now + lease_seconds,
            )
            return True

    def activate(self, session: ChatSession, start_token: str, version: int, now: float) -> bool:
        with self._lock:
            key = (session.channel, session.customer_id)
            current = self.customers.get(key)
            if current is None or current.version != version or current.start_token != start_token:
                return False
            self.customers[key] = CustomerRecord(
                session.channel, session.customer_id, CustomerState.ACTIVE, version, session
            )
            self.contacts[session.contact_id] = (session.channel, session.customer_id, session.expires_at, False)
            return True

    def abandon_start(self, channel: str, customer_id: str, start_token: str, version: int, now: float) -> None:
        with self._lock:
            current = self.customers.get((channel, customer_id))
            if current and current.version == version and current.start_token == start_token:
                self.customers[(channel, customer_id)] = replace(current, state=CustomerState.ENDED, start_token=None)

    def update_connection(self, session: ChatSession, connection_token: str, expires_at: float) -> ChatSession | None:
        updated = replace(session, connection_token=connection_token, connection_expires_at=expires_at)
        return updated if self._replace_session(updated) else None

    def store_redaction(
        self,
        session: ChatSession,
        at: float,
        redaction: Mapping[str, Any],
        message: str = "",
        before: Mapping[str, Any] | None = None,
    ) -> bool:
        """Written only over the version `session` was read with, like the real store."""
        from chalicelib.messaging.store.sessions import message_digest

        with self._lock:
            current = self.customers.get((session.channel, session.customer_id))
            if current is None or current.session is None or current.session.contact_id != session.contact_id:
                return False
            if current.session.redaction_version != session.redaction_version:
                return False
            stored = replace(
                current.session,
                last_customer_message_at=at,
                redaction=dict(redaction),
                redaction_version=session.redaction_version + 1,
                redaction_by=message_digest(message) if message else "",
                redaction_before=dict(before or {}),
            )
            self.customers[(session.channel, session.customer_id)] = replace(current, session=stored)
            return True

    def queue_for_turn(self, channel: str, customer_id: str, message: str, sent_at_ms: int, now: float) -> None:
        with self._lock:
            self.queued.setdefault((channel, customer_id), {}).setdefault(message, sent_at_ms)

    def take_turn(
        self,
        channel: str,
        customer_id: str,
        holder: str,
        now: float,
        lease_seconds: float,
        sent_at_ms: int = 0,
        message: str = "",
    ) -> bool:
        with self._lock:
            held = self.turns.get((channel, customer_id))
            if held is not None and held[0] != holder and held[1] >= now:
                return False
            queued = self.queued.get((channel, customer_id), {})
            if any((sent, other) < (sent_at_ms, message) for other, sent in queued.items() if other != message):
                return False
            self.turns[(channel, customer_id)] = (holder, now + lease_seconds)
            return True

    def give_back_turn(self, channel: str, customer_id: str, holder: str, message: str = "") -> None:
        with self._lock:
            if message:
                self.queued.get((channel, customer_id), {}).pop(message, None)
            if self.turns.get((channel, customer_id), ("",))[0] == holder:
                del self.turns[(channel, customer_id)]

    def leave_queue(self, channel: str, customer_id: str, message: str) -> None:
        with self._lock:
            self.queued.get((channel, customer_id), {}).pop(message, None)

    def end_contact(self, initial_contact_id: str, now: float | None = None) -> None:
        with self._lock:
            contact = self.contacts.get(initial_contact_id)
            if contact is None:
                return
            channel, customer_id, _, _ = contact
            self.contacts[initial_contact_id] = (
                channel,
                customer_id,
                int((now or time.time()) + ENDED_RETENTION_SECONDS),
                True,
            )
            current = self.customers.get((channel, customer_id))
            if current and current.session and current.session.contact_id == initial_contact_id:
                self.customers[(channel, customer_id)] = replace(current, state=CustomerState.ENDED, session=None)

    def find_by_contact(self, initial_contact_id: str, now: float | None = None) -> ChatSession | None:
        contact = self.contacts.get(initial_contact_id)
        if contact is None:
            return None
        channel, customer_id, expires_at, ended = contact
        current = self.customers.get((channel, customer_id))
        if not ended and current and current.session and current.session.contact_id == initial_contact_id:
            return current.session
        return ChatSession(channel, customer_id, initial_contact_id, "", "", 0.0, 0.0, expires_at, ended=True)

    def _replace_session(self, session: ChatSession) -> bool:
        with self._lock:
            key = (session.channel, session.customer_id)
            current = self.customers.get(key)
            if current is None or current.session is None or current.session.contact_id != session.contact_id:
                return False
            self.customers[key] = replace(current, session=session)
            return True


class MemoryDedupe:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[tuple[str, str], tuple[str, float]] = {}

    def claim(self, scope: str, key: str, now: float, lease_seconds: float = 30.0, holder: str = "") -> Claim:
        with self._lock:
            record = self.records.get((scope, key))
            if record is None or (record[0] == "processing" and record[1] < now):
                self.records[(scope, key)] = ("processing", now + lease_seconds)
                return Claim.CLAIMED
            return Claim.DUPLICATE if record[0] == "done" else Claim.IN_PROGRESS

    def complete(self, scope: str, key: str, now: float, outcome: str = "done") -> None:
        with self._lock:
            self.records[(scope, key)] = ("done", now + DEDUPE_RETENTION_SECONDS)

    def release(self, scope: str, key: str, holder: str = "") -> None:
        with self._lock:
            if self.records.get((scope, key), ("",))[0] == "processing":
                del self.records[(scope, key)]


class MemoryChat:
    """Connect chat: counts starts, records (connection token, text) per SendMessage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.starts = 0
        self.sent: list[tuple[str, str]] = []

    def start_chat(self, channel: str, display_name: str, token: str) -> StartedChat:
        with self._lock:
            self.starts += 1
            number = self.starts
        return StartedChat(f"contact-{number}", f"participant-{number}", f"ptoken-{number}")

    def start_streaming(self, contact_id: str) -> None:
        pass

    def create_connection(self, participant_token: str) -> Connection:
        return Connection("c" + participant_token, time.time() + 86400)

    def send_text(self, connection_token: str, text: str, token: str, content_type: str = "text/plain") -> list[str]:
        with self._lock:
            self.sent.append((connection_token, text))
        return ["id"]

    def disconnect(self, connection_token: str, token: str) -> None:
        pass


class MemoryForwarder:
    """The attachment relay: records (contact id, attachment type, sticker id, token) per attachment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.forwarded: list[tuple[str, str, str | None, str]] = []
        self.deadlines: list[Deadline | None] = []  # the deadline each forward was given (one per webhook call)

    def forward(
        self, session: ChatSession, attachment: IncomingAttachment, token: str, deadline: Deadline | None = None
    ) -> None:
        with self._lock:
            self.forwarded.append((session.contact_id, attachment.type, attachment.sticker_id, token))
            self.deadlines.append(deadline)
