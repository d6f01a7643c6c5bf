"""The autouse fixture in conftest.py: no test sees what another test's warm container cached."""

from __future__ import annotations

from chalicelib import aws, settings
from chalicelib.ivr import wiring as ivr_wiring
from chalicelib.messaging import wiring
from tests.support import forget_container_state

CACHES = (
    wiring.connect_chat,
    wiring.inbound_messages,
    wiring.attachment_relay,
    wiring.messenger_client,
    ivr_wiring.container_decryptor,
)


def warm_up() -> None:
    current = settings.load()
    aws.client("s3")
    wiring.inbound_messages(current.messaging, current.redaction)
    wiring.outbound_relay(current)
    ivr_wiring.container_decryptor(current.ivr)


def test_a_warm_container_is_forgotten_in_one_place(stage_env):
    warm_up()
    assert all(cache.cache_info().currsize for cache in CACHES)
    forget_container_state()
    assert not any(cache.cache_info().currsize for cache in CACHES)
    assert aws._clients == {}


def test_every_test_starts_cold():
    assert not any(cache.cache_info().currsize for cache in CACHES)
    assert aws._clients == {}
