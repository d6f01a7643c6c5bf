"""Issue 17, split cards under concurrency: the per-customer redaction context was read, then written back
without a condition after sending. Two webhooks of one customer in flight both redacted with the context
before either stored its own, and the agent saw a whole card number in two pieces.

Now one message of a customer is handled at a time (a turn item), and the context is stored before sending
with a write conditional on the version it was read at. Threads against moto's DynamoDB with the real
session store, dedupe log and redactor (moto's writes made atomic, as DynamoDB's are).
"""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from moto import mock_aws

from chalicelib import settings
from chalicelib.messaging.errors import TransientError
from chalicelib.messaging.inbound import InboundMessages
from chalicelib.messaging.meta.webhook import parse_item
from chalicelib.messaging.store.dedupe import DedupeLog
from chalicelib.messaging.store.sessions import ChatSession, SessionStore
from chalicelib.redaction.redactor import build_redactor
from tests.messaging.fakes import MemoryChat, MemoryForwarder
from tests.messaging.fixtures import item, text_item
from tests.sessions_table import SESSIONS_TABLE, atomic_moto_dynamodb, create_sessions_table

CARD = "4539148803436467"  # its second half alone is not masked: only the context masks it
VISIBLE_CARD_DIGITS = 6  # at most the BIN (chalicelib/redaction/conversation.py)


class SlowFirstHalf:
    """The real redactor; redacting the first half of the card takes a while, and says when it started."""

    def __init__(self, redactor):
        self._redactor = redactor
        self.first_half_started = threading.Event()
        self.texts: list[str] = []

    def redact(self, text, context=None, now=None):
        self.texts.append(text)
        if text.startswith("my card"):
            self.first_half_started.set()
            time.sleep(0.3)
        return self._redactor.redact(text, context, now)


def real_redactor():
    return build_redactor(settings.RedactionSettings.parse(settings._Reader({})))


@pytest.fixture
def world():
    with mock_aws(), atomic_moto_dynamodb():
        create_sessions_table()
        db = boto3.client("dynamodb", region_name="us-east-1")
        chat = MemoryChat()
        redactor = SlowFirstHalf(real_redactor())
        store = SessionStore(db, SESSIONS_TABLE)
        inbound = InboundMessages(
            sessions=store,
            dedupe=DedupeLog(db, SESSIONS_TABLE),
            chat=chat,
            redactor=redactor,
            attachments=MemoryForwarder(),
        )
        yield inbound, chat, redactor, store


def message(mid: str, words: str):
    return parse_item(text_item(words, mid=mid, psid="psid-7"))


def visible_digits(chat: MemoryChat) -> int:
    return sum(ch.isdigit() for _, sent in chat.sent for ch in sent)


@pytest.mark.parametrize("round_", range(3))
def test_the_second_half_in_flight_is_masked(world, round_):
    inbound, chat, redactor, _ = world
    assert inbound.handle(message("m_hello", "hello I need help")).result == "delivered"
    first = threading.Thread(target=inbound.handle, args=(message("m_a", f"my card number is {CARD[:4]} {CARD[4:8]}"),))
    first.start()
    assert redactor.first_half_started.wait(5)
    outcome = inbound.handle(message("m_b", f"{CARD[8:12]} {CARD[12:]}"))  # while the first is in flight
    first.join(10)
    assert not first.is_alive()
    assert outcome.result == "delivered"
    assert len(chat.sent) == 3
    assert visible_digits(chat) <= VISIBLE_CARD_DIGITS


def test_the_second_half_arriving_first_waits_for_the_first(world):
    """Both halves in flight, the second's webhook first (Meta does not promise order; a slow first call
    does the rest): the turn goes in the order the customer sent them (Meta's timestamps)."""
    inbound, chat, _, _ = world
    assert inbound.handle(message("m_hello", "hello I need help")).result == "delivered"
    sent = int(time.time() * 1000)
    first = parse_item(
        item("psid-7", sent, message={"mid": "m_a", "text": f"my card number is {CARD[:4]} {CARD[4:8]}"})
    )
    second = parse_item(item("psid-7", sent + 100, message={"mid": "m_b", "text": f"{CARD[8:12]} {CARD[12:]}"}))
    outcomes = []
    early = threading.Thread(target=lambda: outcomes.append(inbound.handle(second)))
    early.start()
    time.sleep(0.2)  # the first half's webhook comes later
    outcomes.append(inbound.handle(first))
    early.join(10)
    assert [o.result for o in outcomes] == ["delivered", "delivered"]
    assert [text for _, text in chat.sent][1].startswith("my card number is")  # in the order sent
    assert visible_digits(chat) <= VISIBLE_CARD_DIGITS


class FailsOnce:
    """The session store, failing the first half's first context write (a throttled DynamoDB call after the
    SDK's retries): that webhook answers 503 and Meta retries it later."""

    def __init__(self, store):
        self._store = store
        self.failed = False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def store_redaction(self, session, at, redaction, message="", before=None):
        if message == "m_a" and not self.failed:
            self.failed = True
            raise TransientError("sessions_unavailable")
        return self._store.store_redaction(session, at, redaction, message, before)


def test_a_first_half_that_failed_transiently_still_goes_before_the_second(world):
    """The first half's call fails after it queued (503); the second half's webhook comes while Meta has
    not retried the first yet. The first stays queued, so the second waits (503 too) instead of going
    first without the first half's context; Meta's retries then deliver them in the order sent."""
    inbound, chat, _, store = world
    assert inbound.handle(message("m_hello", "hello I need help")).result == "delivered"
    failing = FailsOnce(store)
    inbound._sessions = failing
    sent = int(time.time() * 1000) - 5000  # sent a few seconds ago: no reorder wait
    first = parse_item(
        item("psid-7", sent, message={"mid": "m_a", "text": f"my card number is {CARD[:4]} {CARD[4:8]}"})
    )
    second = parse_item(item("psid-7", sent + 100, message={"mid": "m_b", "text": f"{CARD[8:12]} {CARD[12:]}"}))
    inbound._turn_wait = 0.2  # keep the test short: the second gives up quickly
    with pytest.raises(TransientError):
        inbound.handle(first)
    with pytest.raises(TransientError) as busy:
        inbound.handle(second)  # the first is still queued
    assert busy.value.reason == "customer_busy"
    assert [o.result for o in (inbound.handle(first), inbound.handle(second))] == ["delivered", "delivered"]
    assert visible_digits(chat) <= VISIBLE_CARD_DIGITS


def _active(store: SessionStore, now: float) -> ChatSession:
    assert store.claim_start("messenger", "p", "t", now, 30, None)
    session = ChatSession("messenger", "p", "c-1", "pt", "ct", now + 3600, now, int(now + 86400))
    assert store.activate(session, "t", 1, now)
    record = store.customer("messenger", "p", now)
    assert record is not None and record.session is not None
    return record.session


def test_a_context_stored_meanwhile_refuses_the_stale_write():
    """The versioned write alone (as if the turn's lease ran out): the writer that read first loses."""
    with mock_aws():
        create_sessions_table()
        store = SessionStore(boto3.client("dynamodb", region_name="us-east-1"), SESSIONS_TABLE)
        now = time.time()
        read = _active(store, now)
        assert store.store_redaction(read, now, {"card_messages_left": 5}, "m_1", {})
        assert not store.store_redaction(read, now, {}, "m_2", {})  # what it read is no longer current
        record = store.customer("messenger", "p", now)
        assert record is not None and record.session is not None
        current = record.session
        assert current.redaction == {"card_messages_left": 5} and current.redaction_version == 1
        # A retry of m_1 is redacted with what m_1 saw; any other message with what m_1 left.
        assert current.redaction_for("m_1") == {} and current.redaction_for("m_2") == {"card_messages_left": 5}
        stored = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=SESSIONS_TABLE)["Items"]
        assert "m_1" not in repr(stored)  # the message key is kept as a hash


def test_a_context_stored_meanwhile_makes_the_message_redact_again(world):
    """A writer whose versioned write loses reads the newer context and redacts again before sending."""
    inbound, chat, redactor, store = world
    hello = inbound.handle(message("m_hello", "hello"))
    current = store.find_by_contact(hello.contact_id, time.time())
    real_store_redaction = store.store_redaction
    calls: list[str] = []

    def meanwhile(session, at, redaction, message_key="", before=None):
        if not calls:  # another message of this customer arms card context just before our write
            armed = real_redactor().redact("my card number is", None, at).context.to_item()
            assert real_store_redaction(current, at, armed, "m_other", {})
        calls.append(message_key)
        return real_store_redaction(session, at, redaction, message_key, before)

    store.store_redaction = meanwhile
    assert inbound.handle(message("m_b", f"{CARD[8:12]} {CARD[12:]}")).result == "delivered"
    assert len(calls) == 2  # refused once, stored after redacting again
    assert visible_digits(chat) == 0


class HeldTurn:
    """A session store whose customer turn is held by someone else for ever (a crashed holder, a frozen
    clock): counts the attempts."""

    def __init__(self, store):
        self._store = store
        self.attempts = 0
        self.released = False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def take_turn(self, *args):
        self.attempts += 1
        return self.released


def test_waiting_for_the_turn_is_bounded_whatever_the_clocks_do():
    """The WIP draft's wait loop counted real time while tests slept in fake time; now the number of
    attempts is bounded, and the claim is released so Meta's retry can deliver."""
    with mock_aws():
        create_sessions_table()
        db = boto3.client("dynamodb", region_name="us-east-1")
        held = HeldTurn(SessionStore(db, SESSIONS_TABLE))
        slept: list[float] = []
        inbound = InboundMessages(
            sessions=held,
            dedupe=DedupeLog(db, SESSIONS_TABLE),
            chat=MemoryChat(),
            redactor=real_redactor(),
            attachments=MemoryForwarder(),
            clock=lambda: 1_800_000_000.0,  # frozen
            sleep=slept.append,  # returns at once
        )
        with pytest.raises(TransientError) as info:
            inbound.handle(message("m_1", "hello"))
        assert info.value.reason == "customer_busy"
        assert held.attempts <= 20 and 4.0 <= sum(slept) <= 5.0
        held.released = True  # the holder is gone: Meta's retry is not a duplicate
        assert inbound.handle(message("m_1", "hello")).result == "delivered"


class RefusingStarts:
    """A session store that shows no chat and refuses every start (a stuck item): counts the rounds, and
    stops the test instead of hanging it if the use case never gives up."""

    def __init__(self, store):
        self._store = store
        self.rounds = 0

    def __getattr__(self, name):
        return getattr(self._store, name)

    def customer(self, *args):
        return None

    def claim_start(self, *args):
        self.rounds += 1
        if self.rounds > 10_000:
            raise AssertionError("the start loop does not give up")
        return False


def test_the_start_loop_is_bounded_when_every_start_is_refused():
    """Before: `_ready_session` retried a refused start at once, without sleeping or checking its deadline:
    a store that kept refusing (see the next test) spun for ever (the draft's hang at test_inbound's 21st test
    was looked for here; every wait in the inbound path is now bounded by a count of rounds)."""
    with mock_aws():
        create_sessions_table()
        db = boto3.client("dynamodb", region_name="us-east-1")
        refusing = RefusingStarts(SessionStore(db, SESSIONS_TABLE))
        inbound = InboundMessages(
            sessions=refusing,
            dedupe=DedupeLog(db, SESSIONS_TABLE),
            chat=MemoryChat(),
            redactor=real_redactor(),
            attachments=MemoryForwarder(),
            clock=lambda: 1_800_000_000.0,
            sleep=lambda seconds: None,
        )
        with pytest.raises(TransientError) as info:
            inbound.handle(message("m_1", "hello"))
        assert info.value.reason == "chat_starting" and refusing.rounds <= 200


def test_an_item_expiring_this_very_second_can_be_started_over():
    """`get` reads an item whose `expires_at` is now as absent; the start's condition said `expires_at < now`,
    so it refused it: with a clock on a whole second, the start loop found "no item" and was refused for ever."""
    with mock_aws():
        create_sessions_table()
        store = SessionStore(boto3.client("dynamodb", region_name="us-east-1"), SESSIONS_TABLE)
        now = 1_800_000_000.0
        assert store.claim_start("messenger", "p", "t1", now, 30, None)  # expires_at = now + 3600
        later = now + 3600
        assert store.customer("messenger", "p", later) is None
        assert store.claim_start("messenger", "p", "t2", later, 30, None)


def test_a_start_that_failed_is_taken_over_at_once_by_the_retry(world):
    """A Connect call failing during a start left the chat `starting` under a 30 s lease: Meta's retries
    got 503 (`chat_starting`) until it ran out. In the customer's turn no other attempt is alive: the retry
    takes the start over at once, with its token (the same contact)."""
    inbound, chat, _, store = world
    real_streaming = chat.start_streaming
    chat.start_streaming = lambda contact_id: (_ for _ in ()).throw(TransientError("connect_unavailable"))
    with pytest.raises(TransientError):
        inbound.handle(message("m_hello", "hello"))
    chat.start_streaming = real_streaming
    assert inbound.handle(message("m_hello", "hello")).result == "delivered"  # no wait for the lease
    assert chat.starts == 2 and len(chat.sent) == 1


def test_only_a_message_with_digits_waits_for_the_reorder():
    """The reorder wait (a message sent under a second ago waits for one sent just before it) costs a
    second; it only matters for digits, so a message without any goes at once."""
    from tests.messaging.fakes import MemoryDedupe, MemorySessions

    slept: list[float] = []
    now = 1_800_000_000.0
    inbound = InboundMessages(
        MemorySessions(),
        MemoryDedupe(),
        MemoryChat(),
        real_redactor(),
        MemoryForwarder(),
        clock=lambda: now,
        sleep=slept.append,
    )
    fresh = int(now * 1000) - 100
    assert (
        inbound.handle(parse_item(item("psid-7", fresh, message={"mid": "m_1", "text": "hello"}))).result == "delivered"
    )
    assert slept == []
    assert (
        inbound.handle(parse_item(item("psid-7", fresh, message={"mid": "m_2", "text": "0343 6467"}))).result
        == "delivered"
    )
    assert slept and 0.8 <= slept[0] <= 1.0
