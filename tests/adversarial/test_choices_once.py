"""Issue 17 audit (read-modify-writes of session state): the numbered list a customer was last offered was read
and cleared in one step, inside the redaction, before anything was sent. So every path that redacts a message
again lost the customer's choice: a redaction redone after another message stored its context meanwhile, or
Meta's retry after a transient failure, sent the bare number ("2") instead of the option. And the clear was
unconditional: a list the agent or bot offered meanwhile was wiped.

Now reading has no effect; the list is cleared once the answer is delivered, and only if it is still the list
that was answered (its `list_id`). Against moto's DynamoDB with the real choice store.
"""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws

from chalicelib import settings as app_settings
from chalicelib.messaging.errors import TransientError
from chalicelib.messaging.inbound import InboundMessages
from chalicelib.messaging.meta.webhook import parse_item
from chalicelib.messaging.store.choices import ChoiceStore
from chalicelib.redaction.redactor import build_redactor
from tests.messaging.fakes import MemoryChat, MemoryDedupe, MemoryForwarder, MemorySessions
from tests.messaging.fixtures import text_item
from tests.sessions_table import SESSIONS_TABLE, create_sessions_table

OPTIONS = ("Check self-service options", "Talk to an agent", "End chat")
LATER = ("Pay a bill", "Report a fault")


class Sessions(MemorySessions):
    """The in-memory session store, with the next context writes refused or failing on request."""

    def __init__(self):
        super().__init__()
        self.refuse = 0  # another message stored its context meanwhile: read again, redact again
        self.fail = 0  # DynamoDB throttled past the SDK's retries: 503, Meta retries

    def store_redaction(self, *args, **kwargs):
        if self.fail:
            self.fail -= 1
            raise TransientError("sessions_unavailable")
        if self.refuse:
            self.refuse -= 1
            return False
        return super().store_redaction(*args, **kwargs)


class World:
    def __init__(self):
        create_sessions_table()
        self.choices = ChoiceStore(boto3.client("dynamodb"), SESSIONS_TABLE)
        self.sessions = Sessions()
        self.chat = MemoryChat()
        redactor = build_redactor(app_settings.RedactionSettings.parse(app_settings._Reader({})))
        self.inbound = InboundMessages(
            self.sessions, MemoryDedupe(), self.chat, redactor, MemoryForwarder(), choices=self.choices
        )
        assert self.send("m_hello", "hello").result == "delivered"
        (self.contact_id,) = self.sessions.contacts
        self.choices.remember(self.contact_id, OPTIONS, time.time())  # the inbound path reads the real clock

    def send(self, mid: str, text: str):
        return self.inbound.handle(parse_item(text_item(text, mid=mid)))

    def last_sent(self) -> str:
        return self.chat.sent[-1][1]

    def offered(self) -> tuple[str, ...]:
        return self.choices.recall(self.contact_id, time.time()).titles


@pytest.fixture
def world():
    with mock_aws():
        yield World()


def test_the_answer_is_the_option_and_the_list_is_cleared_once_delivered(world):
    assert world.send("m_2", "2").result == "delivered"
    assert world.last_sent() == "Talk to an agent"
    assert world.offered() == ()


def test_a_redaction_redone_after_a_concurrent_write_still_sends_the_option(world):
    world.sessions.refuse = 1
    assert world.send("m_2", "2").result == "delivered"
    assert world.last_sent() == "Talk to an agent"  # was "2": the first redaction had cleared the list


def test_metas_retry_after_a_transient_failure_still_sends_the_option(world):
    world.sessions.fail = 1
    with pytest.raises(TransientError):
        world.send("m_2", "2")  # 503: Meta retries
    assert world.offered() == OPTIONS  # nothing delivered, nothing cleared
    assert world.send("m_2", "2").result == "delivered"
    assert world.last_sent() == "Talk to an agent"  # was "2"


def test_a_list_offered_while_the_answer_is_delivered_is_kept(world):
    real_send = world.chat.send_text

    def send_while_the_bot_offers_another_list(*args, **kwargs):
        world.choices.remember(world.contact_id, LATER, time.time())  # the stream handler, in another Lambda
        return real_send(*args, **kwargs)

    world.chat.send_text = send_while_the_bot_offers_another_list
    assert world.send("m_2", "2").result == "delivered"
    assert world.last_sent() == "Talk to an agent"
    assert world.offered() == LATER  # an unconditional clear wiped it


def test_the_store_clears_only_the_list_it_was_asked_to():
    with mock_aws():
        create_sessions_table()
        store = ChoiceStore(boto3.client("dynamodb"), SESSIONS_TABLE)
        store.remember("contact-1", OPTIONS, 0.0)
        first = store.recall("contact-1", 1.0)
        store.remember("contact-1", LATER, 2.0)
        store.forget("contact-1", first.list_id)
        assert store.recall("contact-1", 3.0).titles == LATER
        store.forget("contact-1", store.recall("contact-1", 3.0).list_id)
        assert store.recall("contact-1", 4.0).titles == ()
