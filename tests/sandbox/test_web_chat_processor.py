"""The web-chat pane's emulation of Connect message processing: every message of a chat that turned the processor
on goes to the real `message_processor` (in process, through the Chalice test client, as Lambda would run it)
with Connect's event, and its answer decides what the other side sees; failures follow the chat's failure mode."""

from __future__ import annotations

import pytest

from sandbox.connect.model import ConnectModel
from sandbox.connect.processing import DELIVER, DO_NOT_DELIVER, MessageProcessing, ProcessorSettings
from sandbox.lambdas import Invocation
from sandbox.webchat import WebChat
from tests.processor.helpers import CHAT_CONTENT_FIELDS
from tests.sessions_table import create_sessions_table

INSTANCE = "11111111-2222-3333-4444-555555555555"
FLOW = "66666666-7777-8888-9999-000000000000"
CARD = "4111 1111 1111 1111"


class InProcessLambda:
    """The Lambda host's contract (result or error) over the Chalice test client."""

    def __init__(self, client):
        self.client = client
        self.events: list[dict] = []

    def invoke(self, function, event, timeout=60.0):
        self.events.append(event)
        try:
            return Invocation(self.client.lambda_.invoke(function, event).payload, None)
        except Exception as exc:
            return Invocation(None, type(exc).__name__)


@pytest.fixture
def web(chalice_client):
    from moto import mock_aws

    with mock_aws():
        create_sessions_table()
        invoker = InProcessLambda(chalice_client)
        processing = MessageProcessing(invoker, INSTANCE)
        model = ConnectModel(INSTANCE, FLOW, lambda arn: True, lambda chat, item: None, processing=processing)
        webchat = WebChat(model, processing, "us-east-1", "123456789012")
        yield type("Web", (), {"model": model, "chat": webchat, "invoker": invoker, "processing": processing})


def transcript(web) -> list[tuple[str, str]]:
    chat = web.model.chat(web.chat.contact_id)
    return [(item["ParticipantRole"], item["Content"]) for item in chat.items if item["Type"] == "MESSAGE"]


def test_the_entry_flow_turns_the_processor_on_fail_closed(web):
    started = web.chat.start()
    chat = web.model.chat(started["contact_id"])
    assert chat.processor == ProcessorSettings("message_processor", DO_NOT_DELIVER)
    assert started["flow"]["flow"] == "chat-redaction"


def test_customer_and_agent_messages_pass_through_the_processor_as_connect_calls_it(web):
    web.chat.start()
    web.chat.customer_message(f"my card is {CARD}")
    web.model.agent_message(web.chat.contact_id, "thanks, got it")
    assert transcript(web) == [("CUSTOMER", "my card is [CREDIT_DEBIT_NUMBER]"), ("AGENT", "thanks, got it")]
    first = web.invoker.events[0]
    assert set(first) == {"version", "instanceId", "associatedResourceArn", "chatContent"}
    assert set(first["chatContent"]) == set(CHAT_CONTENT_FIELDS)
    statuses = [(m["from"], m["status"]) for m in web.chat.view()["messages"]]
    assert statuses == [("customer", "PROCESSED"), ("agent", "APPROVED")]


def test_a_split_card_is_masked_across_messages_of_the_web_chat(web):
    web.chat.start()
    web.chat.customer_message("4111 1111")
    web.chat.customer_message("1111 1111")
    assert transcript(web) == [("CUSTOMER", "[CREDIT_DEBIT_NUMBER]"), ("CUSTOMER", "[CREDIT_DEBIT_NUMBER]")]


def test_a_rejected_message_is_not_delivered(web, monkeypatch):
    monkeypatch.setenv("PROCESSOR_REJECT_ENTITY_TYPES", "CREDIT_DEBIT_NUMBER")
    web.chat.start()
    answer = web.chat.customer_message(f"card {CARD}")
    assert answer["metadata"] == {"MessageProcessingStatus": "REJECTED"}
    assert transcript(web) == []
    assert web.chat.view()["messages"][0]["status"] == "REJECTED"


@pytest.mark.parametrize("mode, delivered", [(DO_NOT_DELIVER, []), (DELIVER, [("CUSTOMER", f"card {CARD}")])])
def test_a_failing_processor_follows_the_failure_mode(web, mode, delivered):
    web.chat.start()
    web.chat.set_failure(mode, True)
    web.chat.customer_message(f"card {CARD}")
    assert transcript(web) == delivered
    [message] = web.chat.view()["messages"]
    assert message["status"] == "FAILED" and message["delivered"] is bool(delivered)


def test_start_contact_media_processing_turns_it_on_for_a_chat(web):
    chat = web.model.start_web_chat("someone", None)
    web.model.start_contact_media_processing(
        {
            "InstanceId": INSTANCE,
            "ContactId": chat.contact_id,
            "FailureMode": DELIVER,
            "ProcessorArn": "arn:aws:lambda:us-east-1:123456789012:function:message_processor",
        }
    )
    assert chat.processor == ProcessorSettings("message_processor", DELIVER)
