"""Split numbers per contact: the context lives in SESSIONS_TABLE per initial contact, costs no DynamoDB call for
messages without digits, at most a read and a conditional write otherwise, and a retried message gets its answer
again."""

from __future__ import annotations

import pytest

from chalicelib.processor.context_store import KEY_PREFIX
from tests.processor.helpers import CONTACT, content_of, event, processor
from tests.sessions_table import table_items

OTHER = "c0ffee00-0000-4000-8000-000000000002"
MASK = "[CREDIT_DEBIT_NUMBER]"


def said(proc, text: str, **kwargs) -> str:
    return content_of(proc.process(event(text, **kwargs)))


def test_a_card_over_two_messages_is_masked(store):
    proc = processor(store)
    assert said(proc, "4111 1111") == MASK
    assert said(proc, "9233 4415") == MASK


def test_a_card_over_three_messages_is_masked(store):
    proc = processor(store)
    assert said(proc, "4111") == "4111"  # the BIN alone may be shown (PCI DSS); the rest may not
    assert said(proc, "1111 1111") == MASK
    assert said(proc, "1111") == MASK


def test_contacts_do_not_share_context(store):
    proc = processor(store)
    assert said(proc, "4111 1111", contact=CONTACT) == MASK
    assert said(proc, "9233 4415", contact=OTHER) == "9233 4415"


def test_context_follows_the_initial_contact_across_a_transfer(store):
    proc = processor(store)
    assert said(proc, "4111 1111", contact=CONTACT) == MASK
    assert said(proc, "9233 4415", contact=OTHER, initial=CONTACT) == MASK


def test_agent_messages_neither_read_nor_change_the_context(store):
    proc = processor(store)
    before = store.round_trips
    assert said(proc, "9233 4415", role="AGENT") == "9233 4415"
    assert store.round_trips == before and table_items() == []


def test_a_card_prompt_without_digits_turns_context_on_with_one_write_and_no_read(store):
    proc = processor(store)
    before = store.round_trips
    assert said(proc, "my card number is") == "my card number is"
    assert store.round_trips - before == 1
    assert said(proc, "9233 4415") == MASK


@pytest.mark.parametrize(
    "text, trips",
    [
        ("hello, where is my order?", 0),
        ("four one one one", 2),  # a spoken number is read as digits, so it is judged with the context
        ("my order is 123", 1),  # read; nothing changed: no write
        ("4111 1111", 2),  # read; context turned on: one conditional write
    ],
)
def test_round_trips_per_message(store, text, trips):
    proc = processor(store)
    before = store.round_trips
    proc.process(event(text))
    assert store.round_trips - before == trips


def test_a_retried_message_gets_the_same_answer(store):
    proc = processor(store, PII_CARD_CONTEXT_MESSAGES="1")
    said(proc, "4111 1111")
    retried = event("and then 737 ok")
    first = proc.process(retried)
    assert content_of(first) == "and then [CREDIT_DEBIT_CVV] ok"  # the last message the context covers ...
    assert said(proc, "and then 737 ok") == "and then 737 ok"  # ... so the context is over now
    assert proc.process(retried) == first  # but a retry of that message is judged as it was the first time


def test_the_item_holds_flags_and_times_only_and_always_a_ttl(store):
    proc = processor(store, clock=lambda: 1_800_000_000.0)
    said(proc, "4111 1111")
    [item] = table_items()
    assert item["pk"] == {"S": KEY_PREFIX + CONTACT}
    assert set(item) == {"pk", "v", "ctx", "recent", "expires_at"}
    assert int(item["expires_at"]["N"]) > 1_800_000_000
    contexts = [item["ctx"]] + [entry["M"]["ctx"] for entry in item["recent"]["L"]]
    for context in contexts:
        assert all(set(value) <= {"N", "BOOL"} for value in context["M"].values())
    assert "4111" not in str(item)


def test_an_expired_item_reads_as_absent(store):
    now = [1_800_000_000.0]
    proc = processor(store, clock=lambda: now[0])
    said(proc, "4111 1111")
    now[0] += 2 * 24 * 3600  # past the TTL, which DynamoDB has not acted on yet
    assert said(proc, "9233 4415") == "9233 4415"
    assert said(proc, "4111 1111") == MASK  # and a new context is written over it
    assert said(proc, "9233 4415") == MASK


def test_only_the_last_few_messages_are_remembered_for_retries(store):
    now = [1_800_000_000.0]
    proc = processor(store, clock=lambda: now[0])
    for _ in range(10):
        now[0] += 5  # each message renews the context: each one changes it
        said(proc, "4111 1111")
    [item] = table_items()
    assert len(item["recent"]["L"]) == 4


def test_a_stored_item_of_the_wrong_shape_means_no_context(store, table):
    table.put_item(
        TableName="connect-guard-sessions",
        Item={"pk": {"S": KEY_PREFIX + CONTACT}, "v": {"S": "x"}, "ctx": {"S": "garbage"}, "expires_at": {"N": "9e12"}},
    )
    proc = processor(store)
    assert said(proc, "9233 4415") == "9233 4415"
