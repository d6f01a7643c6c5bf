"""The webhook's HTTP decisions that need a clock: secret rotation and the refresh rate limit."""

from __future__ import annotations

import pytest
from moto import mock_aws

from chalicelib import aws
from chalicelib.messaging.endpoint import MessengerWebhook
from chalicelib.messaging.meta.secrets import MessengerSecrets
from tests.messaging.fixtures import (
    SECRET,
    SECRET_ID,
    body_of,
    create_messenger_secret,
    envelope,
    item,
    rotate_messenger_secret,
    sign,
)

ROTATED = {**SECRET, "APP_SECRET": "rotated-app-secret", "VERIFY_TOKEN": "rotated-verify-token"}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class CountingSecretsManager:
    def __init__(self):
        self.calls = 0

    def get_secret_value(self, **request):
        self.calls += 1
        return aws.client("secretsmanager").get_secret_value(**request)


class NoEvents:
    def handle(self, event, deadline=None):
        raise AssertionError("no event expected")


class Ignoring:
    def handle(self, event, deadline=None):
        from chalicelib.messaging.inbound import Outcome

        return Outcome("ignored", event.kind)


@pytest.fixture
def rotating():
    with mock_aws():
        create_messenger_secret()
        clock = Clock()
        counter = CountingSecretsManager()
        secrets = MessengerSecrets(
            SECRET_ID, ttl_seconds=300, client_factory=lambda: counter, min_refresh_seconds=30, clock=clock
        )
        webhook = MessengerWebhook(secrets, lambda: Ignoring(), max_body_bytes=1024 * 1024)
        webhook.verify({"hub.mode": "subscribe", "hub.verify_token": SECRET["VERIFY_TOKEN"], "hub.challenge": "1"})
        yield webhook, clock, counter


def test_a_rotated_app_secret_is_picked_up_on_the_first_mismatch(rotating):
    webhook, clock, counter = rotating
    rotate_messenger_secret(ROTATED)
    clock.now += 31  # past the refresh rate limit, well inside the cache TTL
    body = body_of(envelope(item(read={"watermark": 1})))
    assert webhook.receive(body, sign(body, ROTATED["APP_SECRET"])).status == 200
    assert counter.calls == 2


def test_a_rotated_verify_token_is_picked_up(rotating):
    webhook, clock, _ = rotating
    rotate_messenger_secret(ROTATED)
    clock.now += 31
    query = {"hub.mode": "subscribe", "hub.verify_token": ROTATED["VERIFY_TOKEN"], "hub.challenge": "7"}
    assert webhook.verify(query).body == "7"


def test_forged_signatures_cannot_flood_secrets_manager(rotating):
    webhook, clock, counter = rotating
    clock.now += 31
    body = body_of(envelope(item(read={"watermark": 1})))
    for _ in range(50):
        assert webhook.receive(body, sign(body, "forged")).status == 403
    assert webhook.receive(body, None).status == 403
    assert webhook.receive(body, "sha256=short").status == 403
    assert counter.calls == 2  # the initial read and one refresh


def test_body_limit_is_checked_before_the_signature():
    webhook = MessengerWebhook(secrets=None, inbound=lambda: NoEvents(), max_body_bytes=10)
    assert webhook.receive(b"x" * 11, "sha256=" + "0" * 64).status == 413


class Slow:
    """An inbound use case that spends the clock: each event costs `cost` seconds; records its deadlines."""

    def __init__(self, clock, cost):
        self.clock, self.cost, self.deadlines = clock, cost, []

    def handle(self, event, deadline=None):
        from chalicelib.messaging.inbound import Outcome

        self.deadlines.append(deadline)
        self.clock.now += self.cost
        return Outcome("delivered", event.kind)


def test_one_deadline_per_call_and_events_not_started_in_time_are_redelivered():
    """Issue 17: every download had its own 15 s; now a call has one budget, shared by all its events, and
    an event that cannot start inside it is left for Meta's redelivery (never claimed, so nothing is lost)."""
    with mock_aws():
        create_messenger_secret()
        clock = Clock()
        inbound = Slow(clock, cost=9)
        secrets = MessengerSecrets(SECRET_ID, ttl_seconds=300)
        webhook = MessengerWebhook(secrets, lambda: inbound, 1024 * 1024, deadline_seconds=15, clock=clock)
        body = body_of(envelope(*(item(message={"mid": f"m_{n}", "text": "hi"}) for n in range(3))))
        reply = webhook.receive(body, sign(body, SECRET["APP_SECRET"]))
    assert reply.status == 503  # Meta redelivers; events 0 and 1 are deduped then
    assert len(inbound.deadlines) == 2 and inbound.deadlines[0] is inbound.deadlines[1]
    assert inbound.deadlines[0].budget == 15
