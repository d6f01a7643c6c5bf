"""Replay every public webhook payload (tests/messaging/fixtures_public/) through the Chalice test client.

For each body: Meta gets 200 (or a documented transient 5xx that the redelivery completes), the
redelivery adds nothing (exactly once), and the agent sees what the customer sent, or is told that
something could not be shown (tests/messaging/replay/oracle.py). Run the whole corpus with
`.venv/bin/python -m pytest tests/messaging/replay -q -p no:cacheprovider`.
"""

from __future__ import annotations

import pytest

from tests.messaging.replay import corpus, oracle
from tests.messaging.replay.known_failures import KNOWN


def _params():
    for case in corpus.webhook_cases():
        marks = [pytest.mark.xfail(reason=KNOWN[case.id], strict=True)] if case.id in KNOWN else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", _params())
def test_public_payload_is_answered_and_nothing_is_lost(case, world):
    reply = world.post_until_done(case.raw)
    assert reply.status_code == 200, f"{case.id} ({case.origin}) answered {reply.status_code}"
    items_after_first = world.agent_items()
    chats_after_first = len(world.connect.chats())

    # Meta delivers at least once: the same body again changes nothing.
    assert world.post(case.raw).status_code == 200
    assert world.agent_items() == items_after_first, "a redelivery reached the agent twice"
    assert len(world.connect.chats()) == chats_after_first

    verdict = check(case, world)
    assert not verdict, f"{case.id} ({case.origin}): " + "; ".join(verdict)


def check(case: corpus.WebhookCase, world) -> list[str]:
    """Problems with what the agent saw, against the oracle; empty when all is well."""
    problems: list[str] = []
    expectations = oracle.expectations(case)
    view = world.agent_view()
    items = world.agent_items()
    for expectation in expectations:
        for text in expectation.must_show:
            if text not in view:
                problems.append(f"agent never saw {text!r} ({expectation.why})")
    at_least = sum(e.at_least for e in expectations)
    at_most = sum(e.at_most for e in expectations)
    if len(items) < at_least:
        problems.append(f"agent got {len(items)} items, expected at least {at_least}: content lost untold")
    if len(items) > at_most:
        problems.append(f"agent got {len(items)} items, expected at most {at_most}: duplicates")
    senders_with_content = {e.sender for e in expectations if e.at_least}
    if len(world.connect.chats()) > len(senders_with_content):
        problems.append(f"{len(world.connect.chats())} chats for {len(senders_with_content)} customers with content")
    return problems
