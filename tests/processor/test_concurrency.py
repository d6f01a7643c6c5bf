"""Messages of one contact processed at the same time (threads, moto): no context update is lost, every message
gets an answer, and a conversation that keeps losing the race fails closed rather than unjudged."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.processor.context_store import ContextStore
from tests.processor.helpers import content_of, event, processor
from tests.sessions_table import SESSIONS_TABLE, atomic_moto_dynamodb, table_items

IN_CONTEXT = "my reference is 123 ok"  # masked while card context is on, and counts one message of it


class RaceAtLoad(ContextStore):
    """Every thread reads before any writes: the worst interleaving, made certain with a barrier."""

    def __init__(self, client, parties: int):
        super().__init__(client, SESSIONS_TABLE)
        self._barrier = threading.Barrier(parties, timeout=10)
        self._first_loads = threading.local()

    def load(self, conversation, message_id, now):
        stored = super().load(conversation, message_id, now)
        if not getattr(self._first_loads, "done", False):
            self._first_loads.done = True
            self._barrier.wait()
        return stored


def left(item) -> int:
    return int(item["ctx"]["M"]["card_messages_left"]["N"])


def test_two_messages_read_the_same_version_and_neither_update_is_lost(table):
    with atomic_moto_dynamodb():
        processor(ContextStore(table, SESSIONS_TABLE), PII_CARD_CONTEXT_MESSAGES="50").process(event("4111 1111"))
        racing = RaceAtLoad(table, parties=2)
        proc = processor(racing, PII_CARD_CONTEXT_MESSAGES="50")
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: proc.process(event(IN_CONTEXT)), range(2)))
    assert [a["status"] for a in answers] == ["PROCESSED", "PROCESSED"]
    [item] = table_items()
    assert left(item) == 48  # both counted: the loser of the race read again and counted on top
    assert racing.round_trips == 2 * 2 + 2  # one extra read and write for the loser


def test_many_messages_of_one_contact_at_once(table):
    with atomic_moto_dynamodb():
        store = ContextStore(table, SESSIONS_TABLE)
        proc = processor(store, max_attempts=50, PII_CARD_CONTEXT_MESSAGES="50")
        proc.process(event("4111 1111"))
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: proc.process(event(IN_CONTEXT)), range(24)))
    assert {content_of(a) for a in answers} == {"my reference is [CREDIT_DEBIT_CVV] ok"}
    [item] = table_items()
    assert left(item) == 50 - 24


def test_endless_contention_fails_closed(table):
    class AlwaysLosing(ContextStore):
        def save(self, *args, **kwargs):
            return False

    proc = processor(AlwaysLosing(table, SESSIONS_TABLE), PII_CARD_CONTEXT_MESSAGES="50")
    answer = proc.process(event("4111 1111"))
    assert answer["status"] == "REJECTED"
