"""Issue 17, agent replies sent twice: claims now carry a holder token and a fresh clock.

- A claim whose write was applied but whose answer was lost (the SDK then retries it) found "another"
  attempt's claim, its own, and the send waited for the lease (30 s) or was dropped by Lambda's retries.
- One attempt could release another's claim: A's lease ran out, B took it over, A failed and released,
  and C claimed it again while B was still sending: a duplicate.
- The clock was read once per SNS record, so a slow first part made the next part's lease start in the past.

Against moto's DynamoDB with the real sessions table.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from chalicelib.messaging.once import Once
from chalicelib.messaging.store.dedupe import Claim, DedupeLog
from tests.sessions_table import SESSIONS_TABLE, create_sessions_table


class LostAnswers:
    """A DynamoDB client whose writes are applied, answered with an error, and retried by the SDK: what the
    caller sees is the retry's answer."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def put_item(self, **request):
        try:
            self._client.put_item(**request)  # applied; its answer never arrives
        except Exception:
            pass
        return self._client.put_item(**request)  # the SDK's retry


@pytest.fixture
def dynamodb():
    with mock_aws():
        import boto3

        create_sessions_table()
        yield boto3.client("dynamodb")


def test_a_claim_whose_answer_was_lost_is_still_ours(dynamodb):
    log = DedupeLog(LostAnswers(dynamodb), SESSIONS_TABLE)
    assert log.claim("stream", "item#0", 100.0, holder="attempt-a") is Claim.CLAIMED
    assert log.claim("stream", "item#1", 100.0, holder="") is Claim.IN_PROGRESS  # without a holder: stuck


def test_a_claim_held_by_another_attempt_is_in_progress(dynamodb):
    log = DedupeLog(dynamodb, SESSIONS_TABLE)
    assert log.claim("stream", "k", 100.0, holder="a") is Claim.CLAIMED
    assert log.claim("stream", "k", 101.0, holder="b") is Claim.IN_PROGRESS


def test_an_attempt_cannot_release_the_claim_another_took_over(dynamodb):
    log = DedupeLog(dynamodb, SESSIONS_TABLE)
    assert log.claim("stream", "k", 0.0, lease_seconds=30, holder="a") is Claim.CLAIMED
    assert log.claim("stream", "k", 31.0, lease_seconds=30, holder="b") is Claim.CLAIMED  # a's lease ran out
    log.release("stream", "k", holder="a")  # a's send failed late
    assert log.claim("stream", "k", 32.0, lease_seconds=30, holder="c") is Claim.IN_PROGRESS  # b still sends
    log.release("stream", "k", holder="b")
    assert log.claim("stream", "k", 33.0, holder="c") is Claim.CLAIMED


def test_once_reads_the_clock_for_each_claim_and_releases_only_its_own(dynamodb):
    seen: list[tuple[float, str]] = []

    class Recording(DedupeLog):
        def claim(self, scope, key, now, lease_seconds=30.0, holder=""):
            seen.append((now, holder))
            return super().claim(scope, key, now, lease_seconds, holder)

    clock = [0.0]
    once = Once(Recording(dynamodb, SESSIONS_TABLE), "stream", lease_seconds=30, clock=lambda: clock[0])

    def slow_part():
        clock[0] += 45.0  # a slow first part
        return "sent"

    once.run("item#0", slow_part, lambda r: r, busy="busy")
    once.run("item#1", lambda: "sent", lambda r: r, busy="busy")
    (first, holder_a), (second, holder_b) = seen
    assert (first, second) == (0.0, 45.0)
    assert holder_a and holder_b and holder_a != holder_b
