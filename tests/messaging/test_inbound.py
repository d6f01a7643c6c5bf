"""The inbound use case end to end below HTTP: moto DynamoDB + Stubbers for Connect (request-validated)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from botocore.stub import ANY
from moto import mock_aws

from chalicelib import aws, settings
from chalicelib.messaging.connect.chat import ConnectChat, Connection, StartedChat, client_token
from chalicelib.messaging.deadline import Deadline
from chalicelib.messaging.errors import TransientError
from chalicelib.messaging.inbound import InboundMessages
from chalicelib.messaging.meta.webhook import parse_item
from chalicelib.messaging.store.dedupe import DedupeLog
from chalicelib.messaging.store.sessions import CustomerState, SessionStore
from chalicelib.redaction.redactor import RedactionUnavailable, build_redactor
from tests.messaging.connect_expectations import expect_connection, expect_new_chat, expect_send
from tests.messaging.fakes import MemoryForwarder
from tests.messaging.fixtures import (
    FLOW_ID,
    INSTANCE_ID,
    PAGE_ID,
    TOPIC_ARN,
    echo_item,
    item,
    start_chat_response,
    stubbed_client,
    text_item,
)
from tests.sessions_table import SESSIONS_TABLE

CARD = "4111 1111 1111 1111"
CUSTOMER = f"{PAGE_ID}/psid-1"  # sessions key a customer by the Page they wrote to and their PSID
SSN = "123-45-6789"


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def world():
    with mock_aws():
        from tests.sessions_table import create_sessions_table

        create_sessions_table()
        connect, connect_stub = stubbed_client("connect")
        participant, participant_stub = stubbed_client("connectparticipant")
        db = aws.client("dynamodb")
        clock = Clock()
        sessions = SessionStore(db, SESSIONS_TABLE)
        forwarder = MemoryForwarder()
        inbound = InboundMessages(
            sessions=sessions,
            dedupe=DedupeLog(db, SESSIONS_TABLE),
            chat=ConnectChat(connect, participant, INSTANCE_ID, FLOW_ID, TOPIC_ARN, 1500),
            redactor=build_redactor(settings.load().redaction),
            attachments=forwarder,
            clock=clock,
        )
        with connect_stub, participant_stub:
            yield SimpleNamespace(
                inbound=inbound,
                sessions=sessions,
                connect=connect_stub,
                participant=participant_stub,
                clock=clock,
                forwarder=forwarder,
            )
            connect_stub.assert_no_pending_responses()
            participant_stub.assert_no_pending_responses()


def handle(world, raw_item):
    return world.inbound.handle(parse_item(raw_item))


# ------------------------------------------------------------------------------------------ the main path


def test_first_message_starts_the_chat_then_follow_ups_only_send(world):
    expect_new_chat(world)
    expect_send(world, "hello")
    outcome = handle(world, text_item("hello", mid="m_1"))
    assert (outcome.result, outcome.contact_id) == ("delivered", "contact-1")

    expect_send(world, "second")
    assert handle(world, text_item("second", mid="m_2")).result == "delivered"

    session = world.sessions.find_by_contact("contact-1")
    assert session.customer_id == CUSTOMER and session.connection_token == "ctoken-contact-1"


def test_customer_text_is_redacted_before_connect(world):
    expect_new_chat(world)
    expect_send(world, "card [CREDIT_DEBIT_NUMBER] ssn [SSN]")
    handle(world, text_item(f"card {CARD} ssn {SSN}", mid="m_1"))


def test_duplicate_mid_reaches_the_agent_once(world):
    expect_new_chat(world)
    expect_send(world, "hello")
    assert handle(world, text_item("hello", mid="m_1")).result == "delivered"
    assert handle(world, text_item("hello", mid="m_1")).result == "duplicate"  # no Connect call expected


def test_postback_title_opens_the_chat(world):
    expect_new_chat(world)
    expect_send(world, "Get Started")
    raw = item(postback={"title": "Get Started", "payload": "GET_STARTED", "mid": "m_pb"})
    assert handle(world, raw).result == "delivered"


def test_quick_reply_sends_its_title_not_the_payload(world):
    expect_new_chat(world)
    expect_send(world, "Yes please")
    assert handle(world, text_item("Yes please", mid="m_q", quick_reply={"payload": "DEV_YES"})).result == "delivered"


def test_attachments_go_to_the_forwarder_in_order_then_the_text_to_the_chat(world):
    expect_new_chat(world)
    expect_send(world, "see this")
    raw = item(
        message={
            "mid": "m_a",
            "text": "see this",
            "attachments": [
                {"type": "image", "payload": {"url": "https://cdn.example/secret.jpg"}},
                {"type": "file", "payload": {"url": "https://cdn.example/doc.pdf"}},
            ],
        }
    )
    assert handle(world, raw).result == "delivered"
    assert [(contact, kind) for contact, kind, _, _ in world.forwarder.forwarded] == [
        ("contact-1", "image"),
        ("contact-1", "file"),
    ]
    tokens = [token for *_, token in world.forwarder.forwarded]
    assert len(set(tokens)) == 2  # one idempotency token per attachment


def test_every_attachment_of_a_call_gets_the_calls_one_deadline(world):
    """Issue 17: each download had its own 15 s; now the webhook call's deadline is handed to each."""
    expect_new_chat(world)
    files = [{"type": "image", "payload": {"url": f"https://cdn.example/{n}.jpg"}} for n in range(3)]
    deadline = Deadline(15)
    outcome = world.inbound.handle(parse_item(item(message={"mid": "m_d", "attachments": files})), deadline)
    assert outcome.result == "delivered"
    assert len(world.forwarder.deadlines) == 3 and all(d is deadline for d in world.forwarder.deadlines)


@pytest.mark.parametrize(
    "raw, result, reason",
    [
        (echo_item(), "ignored", "echo"),
        (item(delivery={"mids": ["m_1"], "watermark": 1}), "ignored", "delivery"),
        (item(read={"watermark": 1}), "ignored", "read"),
        (item(reaction={"reaction": "love", "action": "react", "mid": "m_1"}), "ignored", "reaction"),
        (item(optin={"ref": "x"}), "ignored", "other"),
        (item(message={"mid": "m"}), "rejected", "message_without_content"),
    ],
)
def test_events_that_never_reach_connect_or_the_table(world, raw, result, reason):
    outcome = handle(world, raw)
    assert (outcome.result, outcome.reason) == (result, reason)
    assert world.sessions.customer("messenger", CUSTOMER, world.clock()) is None


def test_echo_is_ignored_before_any_session_lookup():
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError("echo reached an adapter")

    inbound = InboundMessages(Untouchable(), Untouchable(), Untouchable(), Untouchable(), Untouchable())
    assert inbound.handle(parse_item(echo_item())).reason == "echo"
    assert inbound.handle(parse_item(text_item("hi"), standby=True)).reason == "standby"


# ------------------------------------------------------------------------------------------ recovery


def test_expired_connection_token_is_renewed_before_sending(world):
    expect_new_chat(world, expires_in=600)
    expect_send(world, "one")
    handle(world, text_item("one", mid="m_1"))

    world.clock.now += 700
    expect_connection(world, "ptoken-contact-1", "ctoken-renewed")
    expect_send(world, "two", connection_token="ctoken-renewed")
    assert handle(world, text_item("two", mid="m_2")).result == "delivered"
    assert world.sessions.find_by_contact("contact-1").connection_token == "ctoken-renewed"


def test_a_refused_connection_token_is_renewed_and_the_chat_goes_on(world):
    """Connect's ConnectionToken can expire before the Expiry we stored: renew it, never a second contact."""
    expect_new_chat(world)
    expect_send(world, "one")
    handle(world, text_item("one", mid="m_1"))

    world.participant.add_client_error("send_message", "AccessDeniedException", "expired", 403)
    expect_connection(world, "ptoken-contact-1", "ctoken-renewed")
    expect_send(world, "two", connection_token="ctoken-renewed")
    outcome = handle(world, text_item("two", mid="m_2"))
    assert (outcome.result, outcome.contact_id) == ("delivered", "contact-1")
    assert world.sessions.find_by_contact("contact-1").connection_token == "ctoken-renewed"


def test_ended_chat_is_recovered_with_a_new_chat_once(world):
    expect_new_chat(world)
    expect_send(world, "one")
    handle(world, text_item("one", mid="m_1"))

    world.participant.add_client_error("send_message", "AccessDeniedException", "chat terminated", 403)
    # Renewal first: Connect says the chat is over, the old participant is disconnected (refused: ended).
    world.participant.add_client_error("create_participant_connection", "AccessDeniedException", "terminated", 403)
    world.participant.add_client_error("disconnect_participant", "AccessDeniedException", "terminated", 403)
    expect_new_chat(world, "contact-2")
    expect_send(world, "two", connection_token="ctoken-contact-2")
    outcome = handle(world, text_item("two", mid="m_2"))
    assert (outcome.result, outcome.contact_id) == ("delivered", "contact-2")
    assert world.sessions.find_by_contact("contact-1").ended
    assert world.sessions.find_by_contact("contact-2").connection_token == "ctoken-contact-2"


def test_expired_token_on_an_ended_chat_starts_a_new_chat(world):
    expect_new_chat(world, expires_in=600)
    expect_send(world, "one")
    handle(world, text_item("one", mid="m_1"))

    world.clock.now += 700
    world.participant.add_client_error("create_participant_connection", "AccessDeniedException", "", 403)
    world.participant.add_client_error("disconnect_participant", "AccessDeniedException", "", 403)
    expect_new_chat(world, "contact-2")
    expect_send(world, "two", connection_token="ctoken-contact-2")
    assert handle(world, text_item("two", mid="m_2")).contact_id == "contact-2"


def test_a_new_chat_that_refuses_the_message_is_rejected_not_looped(world):
    expect_new_chat(world)
    world.participant.add_client_error("send_message", "AccessDeniedException", "", 403)
    outcome = handle(world, text_item("one", mid="m_1"))
    assert (outcome.result, outcome.reason) == ("rejected", "chat_refused")
    assert handle(world, text_item("one", mid="m_1")).result == "duplicate"


def test_transient_failure_then_the_retry_delivers_once(world):
    expect_new_chat(world)
    world.participant.add_client_error("send_message", "ThrottlingException", "", 429)
    with pytest.raises(TransientError):
        handle(world, text_item("hello", mid="m_1"))

    # Meta's retry: the chat exists, so only SendMessage, with the same ClientToken as before.
    expect_send(world, "hello")
    assert handle(world, text_item("hello", mid="m_1")).result == "delivered"
    assert handle(world, text_item("hello", mid="m_1")).result == "duplicate"


def test_redaction_unavailable_is_transient_and_sends_nothing(world):
    class Down:
        def redact(self, *args):
            raise RedactionUnavailable("comprehend_unavailable")

    world.inbound._redactor = Down()
    with pytest.raises(TransientError) as info:
        handle(world, text_item(f"my card {CARD}", mid="m_1"))
    assert info.value.reason == "redaction_unavailable"


def test_a_start_crashed_mid_way_is_taken_over_with_the_same_token(world):
    world.connect.add_response("start_chat_contact", start_chat_response("contact-1", "ptoken-contact-1"))
    world.connect.add_client_error("start_contact_streaming", "InternalServiceException", "", 500)
    with pytest.raises(TransientError):
        handle(world, text_item("hello", mid="m_1"))
    record = world.sessions.customer("messenger", CUSTOMER, world.clock())
    assert record.state is CustomerState.STARTING

    # The retry comes after the start lease: same StartChatContact token, so Connect returns the same contact.
    world.clock.now += 31
    world.connect.add_response(
        "start_chat_contact",
        start_chat_response("contact-1", "ptoken-contact-1"),
        {
            "InstanceId": ANY,
            "ContactFlowId": ANY,
            "ParticipantDetails": ANY,
            "Attributes": ANY,
            "ChatDurationInMinutes": ANY,
            "SupportedMessagingContentTypes": ANY,
            "ClientToken": record.start_token,
        },
    )
    world.connect.add_response("start_contact_streaming", {"StreamingId": "s"})
    expect_connection(world, "ptoken-contact-1", "ctoken-contact-1")
    expect_send(world, "hello")
    assert handle(world, text_item("hello", mid="m_1")).result == "delivered"


# ------------------------------------------------------------------------------------------ concurrency


class FakeChat:
    """Thread-safe in-memory Connect (an AgentChat): records what each contact received."""

    def __init__(self, start_delay: float = 0.05) -> None:
        self.lock = threading.Lock()
        self.starts: list[str] = []
        self.messages: list[tuple[str, str, str]] = []
        self.start_delay = start_delay

    def start_chat(self, channel: str, display_name: str, token: str) -> StartedChat:
        time.sleep(self.start_delay)  # let the other request find the start in progress
        with self.lock:
            self.starts.append(token)
            return StartedChat(f"contact-{len(self.starts)}", "p", f"ptoken-{len(self.starts)}")

    def start_streaming(self, contact_id: str) -> None:
        pass

    def create_connection(self, participant_token: str) -> Connection:
        return Connection("ctoken-" + participant_token, time.time() + 86400)

    def send_text(self, connection_token: str, text: str, token: str, content_type: str = "text/plain") -> list[str]:
        with self.lock:
            self.messages.append((connection_token, text, token))
        return ["id"]

    def disconnect(self, connection_token: str, token: str) -> None:
        pass  # these tests never end a chat


def test_concurrent_first_messages_start_one_chat_and_both_arrive_once():
    from tests.sessions_table import atomic_moto_dynamodb, create_sessions_table

    with mock_aws(), atomic_moto_dynamodb():
        create_sessions_table()
        db = aws.client("dynamodb")
        chat = FakeChat()
        inbound = InboundMessages(
            SessionStore(db, SESSIONS_TABLE),
            DedupeLog(db, SESSIONS_TABLE),
            chat,
            build_redactor(settings.load().redaction),
            MemoryForwarder(),
        )
        barrier = threading.Barrier(3)
        outcomes, errors = [], []

        def deliver(mid, text):
            barrier.wait()
            try:
                outcomes.append(inbound.handle(parse_item(text_item(text, mid=mid))))
            except TransientError:
                pass  # 503 (e.g. waited too long for the other start on a slow machine): Meta redelivers below
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=deliver, args=(f"m_{i}", f"text {i}")) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Meta's redelivery of all three after the race.
        for i in range(3):
            assert inbound.handle(parse_item(text_item(f"text {i}", mid=f"m_{i}"))).result in ("duplicate", "delivered")

    assert not errors
    assert len(chat.starts) == 1
    assert sorted(text for _, text, _ in chat.messages) == ["text 0", "text 1", "text 2"]
    assert {connection for connection, _, _ in chat.messages} == {"ctoken-ptoken-1"}


def test_client_tokens_derive_from_the_mid_and_contact():
    assert client_token("m_1", "contact-1", "0") != client_token("m_1", "contact-2", "0")


def test_redaction_context_is_kept_in_the_session_between_messages(world):
    from chalicelib.redaction.redactor import Redaction, RedactionContext

    class Remembering:
        """Marks the context on every call and records the context it was given."""

        def __init__(self):
            self.seen = []

        def redact(self, text, context=None, now=None):
            self.seen.append(context)
            return Redaction(text=text, context=RedactionContext(card_context_until=1234 + len(self.seen)))

    redactor = Remembering()
    world.inbound._redactor = redactor
    expect_new_chat(world)
    expect_send(world, "my card number is")
    expect_send(world, "next")
    handle(world, text_item("my card number is", mid="m_1"))
    handle(world, text_item("next", mid="m_2"))

    assert redactor.seen == [RedactionContext(), RedactionContext(card_context_until=1235)]
    assert world.sessions.find_by_contact("contact-1").redaction == RedactionContext(card_context_until=1236).to_item()


def test_a_sticker_pair_is_one_note_and_untitled_postback_becomes_a_note(world):
    expect_new_chat(world)
    expect_send(world, "[customer sent a sticker]")
    expect_send(world, "[customer tapped a button]")
    sticker = item(
        message={
            "mid": "m_s",
            "attachments": [
                {"type": "sticker", "payload": {"url": "https://cdn.example/s.png", "sticker_id": 369239263222822}},
                {"type": "image", "payload": {"url": "https://cdn.example/s.png", "sticker_id": 369239263222822}},
            ],
        }
    )
    assert handle(world, sticker).result == "delivered"
    assert world.forwarder.forwarded == []  # a sticker is not a file to relay
    assert handle(world, item(postback={"payload": "DEV_ONLY", "mid": "m_p"})).result == "delivered"


def test_very_long_text_is_cut_with_a_visible_note(world):
    from chalicelib.messaging.inbound import MAX_TEXT_PIECES

    expect_new_chat(world)
    for _ in range(MAX_TEXT_PIECES):
        world.participant.add_response("send_message", {"Id": "msg"})
    long_text = ("word " * 3000).strip()  # ~15 pieces of 1024
    assert handle(world, text_item(long_text, mid="m_long")).result == "delivered"


def test_a_new_chat_ended_by_the_flow_at_once_is_not_taken_over_again(world):
    world.connect.add_response("start_chat_contact", start_chat_response("contact-1", "ptoken-contact-1"))
    world.connect.add_response("start_contact_streaming", {"StreamingId": "s"})
    world.participant.add_client_error("create_participant_connection", "AccessDeniedException", "", 403)
    outcome = handle(world, text_item("one", mid="m_1"))
    assert (outcome.result, outcome.reason) == ("rejected", "chat_refused")
    assert world.sessions.customer("messenger", CUSTOMER, world.clock()).state is CustomerState.ENDED

    # The next message starts a new chat at once, with its own token.
    expect_new_chat(world, "contact-2")
    expect_send(world, "two", connection_token="ctoken-contact-2")
    assert handle(world, text_item("two", mid="m_2")).contact_id == "contact-2"
