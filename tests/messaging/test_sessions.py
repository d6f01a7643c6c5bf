"""Session store against moto's DynamoDB: atomic customer+contact items, conditional starts, dedupe leases."""

from __future__ import annotations

import threading

import pytest
from moto import mock_aws

from chalicelib import aws
from chalicelib.messaging.errors import ConfigurationError
from chalicelib.messaging.store.dedupe import Claim, DedupeLog
from chalicelib.messaging.store.sessions import (
    ChatSession,
    CustomerRecord,
    CustomerState,
    SessionStore,
    customer_key,
)
from tests.sessions_table import SESSIONS_TABLE, atomic_moto_dynamodb, create_sessions_table, table_items

NOW = 1_800_000_000.0


@pytest.fixture
def db():
    with mock_aws(), atomic_moto_dynamodb():
        create_sessions_table()
        yield aws.client("dynamodb")


def _session(contact_id="contact-1", **changes) -> ChatSession:
    values = dict(
        channel="messenger",
        customer_id="psid-1",
        contact_id=contact_id,
        participant_token="ptoken",
        connection_token="ctoken",
        connection_expires_at=NOW + 86400,
        last_customer_message_at=NOW,
        expires_at=int(NOW + 90000),
        redaction={"card_context_until": 5},
    )
    values.update(changes)
    return ChatSession(**values)


def _customer(store: SessionStore, now: float = NOW) -> CustomerRecord:
    record = store.customer("messenger", "psid-1", now)
    assert record is not None
    return record


def _current(store: SessionStore) -> ChatSession:
    """The session of the customer's active chat."""
    session = _customer(store).session
    assert session is not None
    return session


def _by_contact(store: SessionStore, contact_id: str) -> ChatSession:
    session = store.find_by_contact(contact_id, NOW)
    assert session is not None
    return session


def _start(store: SessionStore, session: ChatSession, token="start-1", expected=None) -> None:
    assert store.claim_start(session.channel, session.customer_id, token, NOW, 30, expected)
    record = store.customer(session.channel, session.customer_id, NOW)
    assert record is not None
    assert store.activate(session, token, record.version, NOW)


def test_activate_writes_customer_and_contact_items(db):
    store = SessionStore(db, SESSIONS_TABLE)
    _start(store, _session())

    record = _customer(store)
    assert record.state is CustomerState.ACTIVE
    assert record.session == _session()
    assert record.session.redaction == {"card_context_until": 5}
    assert store.find_by_contact("contact-1", NOW) == _session()
    assert {item["pk"]["S"] for item in table_items()} == {customer_key("messenger", "psid-1"), "contact#contact-1"}
    assert all("expires_at" in item for item in table_items())


def test_only_one_of_concurrent_starts_wins(db):
    store = SessionStore(db, SESSIONS_TABLE)
    results = []
    barrier = threading.Barrier(4)

    def attempt(index):
        barrier.wait()
        results.append(store.claim_start("messenger", "psid-1", f"start-{index}", NOW, 30, None))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]


def test_activate_fails_after_the_start_was_taken_over(db):
    store = SessionStore(db, SESSIONS_TABLE)
    assert store.claim_start("messenger", "psid-1", "start-1", NOW, 30, None)
    # The lease ran out; another attempt took over (version 2).
    assert store.claim_start("messenger", "psid-1", "start-1", NOW + 60, 30, 1)
    assert not store.activate(_session(), "start-1", 1, NOW)
    assert store.find_by_contact("contact-1", NOW) is None


def test_expired_items_count_as_absent(db):
    store = SessionStore(db, SESSIONS_TABLE)
    _start(store, _session(expires_at=int(NOW + 10)))
    assert store.customer("messenger", "psid-1", NOW + 11) is None
    assert store.find_by_contact("contact-1", NOW + 11) is None
    # ... and may be replaced without knowing their version.
    assert store.claim_start("messenger", "psid-1", "start-2", NOW + 11, 30, None)


def test_end_contact_keeps_a_grace_record_and_frees_the_customer(db):
    store = SessionStore(db, SESSIONS_TABLE)
    _start(store, _session())
    store.end_contact("contact-1", NOW)

    record = _customer(store)
    assert record.state is CustomerState.ENDED and record.session is None
    ended = _by_contact(store, "contact-1")
    assert ended.ended and ended.connection_token == "" and ended.customer_id == "psid-1"
    assert store.find_by_contact("contact-1", NOW + 3601) is None
    # The next chat replaces it, conditional on the version seen.
    assert store.claim_start("messenger", "psid-1", "start-2", NOW, 30, record.version)


def test_ending_an_old_contact_does_not_touch_the_new_chat(db):
    store = SessionStore(db, SESSIONS_TABLE)
    _start(store, _session("contact-1"))
    store.end_contact("contact-1", NOW)
    version = _customer(store).version
    _start(store, _session("contact-2"), token="start-2", expected=version)

    store.end_contact("contact-1", NOW + 5)  # a late duplicate of the first chat's end
    assert _current(store).contact_id == "contact-2"
    old = _by_contact(store, "contact-1")
    assert old.ended and old.connection_token == ""


def test_update_connection_and_touch(db):
    store = SessionStore(db, SESSIONS_TABLE)
    _start(store, _session())
    updated = store.update_connection(_session(), "ctoken-2", NOW + 100)
    assert updated is not None and updated.connection_token == "ctoken-2"
    assert store.store_redaction(updated, NOW + 50, {"card_context_until": 9})

    current = _current(store)
    assert current.connection_token == "ctoken-2"
    assert current.connection_expires_at == NOW + 100
    assert current.last_customer_message_at == NOW + 50
    assert current.redaction == {"card_context_until": 9}


def test_update_connection_of_a_replaced_session_is_refused(db):
    store = SessionStore(db, SESSIONS_TABLE)
    _start(store, _session())
    store.end_contact("contact-1", NOW)
    assert store.update_connection(_session(), "ctoken-2", NOW + 100) is None
    assert not store.store_redaction(_session(), NOW, {})  # refused: not the current chat
    assert _customer(store).state is CustomerState.ENDED


def test_dedupe_claim_complete_and_duplicate(db):
    log = DedupeLog(db, SESSIONS_TABLE)
    assert log.claim("inbound", "m_1", NOW) is Claim.CLAIMED
    assert log.claim("inbound", "m_1", NOW + 1) is Claim.IN_PROGRESS
    log.complete("inbound", "m_1", NOW + 2)
    assert log.claim("inbound", "m_1", NOW + 3) is Claim.DUPLICATE
    assert log.claim("outbound", "m_1", NOW + 3) is Claim.CLAIMED  # scopes are separate
    record = [i for i in table_items() if i["pk"]["S"].startswith("dedupe#inbound#")][0]
    assert int(record["expires_at"]["N"]) >= NOW + 48 * 3600
    assert "m_1" not in record["pk"]["S"]


def test_dedupe_lease_lets_a_crashed_attempt_be_retried(db):
    log = DedupeLog(db, SESSIONS_TABLE)
    assert log.claim("inbound", "m_1", NOW, lease_seconds=30) is Claim.CLAIMED
    assert log.claim("inbound", "m_1", NOW + 31) is Claim.CLAIMED


def test_dedupe_release_frees_the_claim_at_once(db):
    log = DedupeLog(db, SESSIONS_TABLE)
    assert log.claim("inbound", "m_1", NOW) is Claim.CLAIMED
    log.release("inbound", "m_1")
    assert log.claim("inbound", "m_1", NOW + 1) is Claim.CLAIMED


def test_missing_table_is_a_configuration_error(db):
    store = SessionStore(db, "no-such-table")
    with pytest.raises(ConfigurationError) as info:
        store.customer("messenger", "psid-1", NOW)
    assert info.value.code == "ResourceNotFoundException"


def test_a_customer_turn_is_held_by_one_holder_until_given_back_or_its_lease_runs_out(db):
    store = SessionStore(db, SESSIONS_TABLE)
    assert store.take_turn("messenger", "psid-1", "a", NOW, 30)
    assert store.take_turn("messenger", "psid-1", "a", NOW + 1, 30)  # its own retried write
    assert not store.take_turn("messenger", "psid-1", "b", NOW + 1, 30)
    store.give_back_turn("messenger", "psid-1", "b")  # not b's: left alone
    assert not store.take_turn("messenger", "psid-1", "b", NOW + 2, 30)
    assert store.take_turn("messenger", "psid-1", "b", NOW + 32, 30)  # a crashed: its lease ran out
    store.give_back_turn("messenger", "psid-1", "a")  # a, late: does not release b's turn
    assert not store.take_turn("messenger", "psid-1", "c", NOW + 33, 30)
    store.give_back_turn("messenger", "psid-1", "b")
    assert store.take_turn("messenger", "psid-1", "c", NOW + 33, 30)


def test_the_turn_goes_to_the_message_sent_first(db):
    store = SessionStore(db, SESSIONS_TABLE)

    def take(holder, message, sent, now):
        return store.take_turn("messenger", "psid-1", holder, now, 30, sent, message)

    store.queue_for_turn("messenger", "psid-1", "m_late", 2000, NOW)  # its webhook came first
    assert take("a", "m_late", 2000, NOW)  # nobody sent before it: goes
    store.give_back_turn("messenger", "psid-1", "a", "m_late")
    store.queue_for_turn("messenger", "psid-1", "m_second", 3000, NOW)
    store.queue_for_turn("messenger", "psid-1", "m_first", 2500, NOW + 0.1)
    assert not take("b", "m_second", 3000, NOW + 1)  # m_first was sent before it
    assert take("c", "m_first", 2500, NOW + 1)
    store.give_back_turn("messenger", "psid-1", "c")  # failed transiently: gives the turn back, stays queued
    assert not take("b", "m_second", 3000, NOW + 2)
    store.queue_for_turn("messenger", "psid-1", "m_first", 2500, NOW + 3)  # Meta's retry of it
    assert take("d", "m_first", 2500, NOW + 3)
    store.give_back_turn("messenger", "psid-1", "d", "m_first")  # done: leaves the queue
    assert take("b", "m_second", 3000, NOW + 4)
    store.give_back_turn("messenger", "psid-1", "b", "m_second")
    store.queue_for_turn("messenger", "psid-1", "m_crashed", 1000, NOW + 5)  # never heard of again
    assert not take("e", "m_third", 4000, NOW + 6)
    store.queue_for_turn("messenger", "psid-1", "m_crashed", 1000, NOW + 20)  # a retry keeps its first time
    assert take("e", "m_third", 4000, NOW + 36)  # 30 s after it first queued: no longer holds others back
    turn = [i for i in table_items() if i["pk"]["S"].startswith("turn#")][0]
    assert set(turn) <= {"pk", "kind", "q", "v", "holder", "lease_until", "expires_at"}  # no message text
    assert "m_crashed" not in repr(turn)  # message keys are kept as hashes


def test_an_activation_whose_answer_was_lost_is_found_by_its_retry(db):
    """The SDK retries a write whose answer was lost; the retry of an activation found the item already
    active (no start token any more) and was refused: 503 `chat_start_taken_over` in `make chaos`."""
    store = SessionStore(db, SESSIONS_TABLE)
    assert store.claim_start("messenger", "psid-1", "start-1", NOW, 30, None)
    assert store.activate(_session(), "start-1", 1, NOW)
    assert store.activate(_session(), "start-1", 1, NOW)  # the retry: its own write
    assert not store.activate(_session("contact-2"), "start-1", 1, NOW)  # another contact: refused
