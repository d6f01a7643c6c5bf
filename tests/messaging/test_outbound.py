"""The outbound use case: what reaches the customer, what never does, and what happens when things fail."""

import json
import time

import pytest
import responses
from moto import mock_aws

from chalicelib.messaging.errors import TransientError
from chalicelib.messaging.outbound import ATTACHMENT_FALLBACK_TEXT, WINDOW_CLOSED_NOTE
from tests.messaging import stream_fixtures as sf
from tests.messaging.connect_expectations import connection_request, text_request
from tests.messaging.fixtures import SECRET
from tests.messaging.outbound_world import CONNECTION_TOKEN, PARTICIPANT_TOKEN, World
from tests.messaging.stream_fixtures import attachment, sns_event, stream_item
from tests.sessions_table import create_sessions_table

PSID = "24000000000000001"


@pytest.fixture
def world():
    with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        create_sessions_table()
        yield World(graph)


def run(world, *items):
    return world.relay.handle_event(sns_event(*items))


# ------------------------------------------------------------------------------------------- what is forwarded


def test_agent_text_reaches_the_customer_as_a_response(world):
    world.seed()
    world.graph_ok()
    result = run(world, stream_item("contact-1", content="Hi, I'm Jane. How can I help?"))
    assert [o.reason for o in result.outcomes] == ["sent"] and not result.retry
    assert world.sent() == [
        {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi, I'm Jane. How can I help?"}}
    ]


def test_markdown_is_flattened(world):
    world.seed()
    world.graph_ok()
    run(
        world,
        stream_item("contact-1", content_type="text/markdown", content="**Done!** See [your order](https://x.test/o)"),
    )
    assert world.texts() == ["Done! See your order (https://x.test/o)"]


def test_interactive_list_picker_becomes_quick_replies(world):
    world.seed()
    world.graph_ok()
    template = {
        "templateType": "ListPicker",
        "version": "1.0",
        "data": {"content": {"title": "Which fruit?", "elements": [{"title": "Apple"}, {"title": "Banana"}]}},
    }
    run(world, stream_item("contact-1", role="CUSTOM_BOT", content_type=sf.INTERACTIVE, content=json.dumps(template)))
    (body,) = world.sent()
    assert body["message"]["text"] == "Which fruit?"
    assert [r["title"] for r in body["message"]["quick_replies"]] == ["Apple", "Banana"]


def test_long_text_is_split_into_ordered_sends_with_quick_replies_on_the_last(world):
    world.seed()
    world.graph_ok(3)
    long_text = " ".join(f"Sentence number {i} explains one more detail of your order." for i in range(80))
    result = run(world, stream_item("contact-1", content=long_text))
    texts = world.texts()
    assert result.outcomes[0].reason == "sent" and len(texts) == 3
    assert all(len(t) < 2000 for t in texts)
    assert " ".join(texts) == long_text


def test_absurdly_long_text_is_capped_at_ten_parts(world):
    world.seed()
    world.graph_ok(12)
    result = run(world, stream_item("contact-1", content="word " * 10_000))
    assert result.outcomes[0].reason == "sent" and len(world.texts()) == 10


def test_typing_becomes_typing_on(world):
    world.seed()
    world.graph_ok()
    run(world, stream_item("contact-1", content_type=sf.TYPING, content=None))
    assert world.sent() == [{"recipient": {"id": PSID}, "sender_action": "typing_on"}]


@pytest.mark.parametrize(
    "role,content_type,content,visibility,reason",
    [
        ("CUSTOMER", "text/plain", "my own words", "ALL", "customer_echo"),
        ("CUSTOMER", sf.TYPING, None, "ALL", "customer_echo"),
        ("AGENT", "text/plain", "internal whisper", "AGENT", "not_visible_to_customer"),
        ("SUPERVISOR", "text/plain", "coaching", "ALL", "role_not_forwarded"),
        ("AGENT", sf.JOINED, None, "ALL", "event_not_forwarded"),
        ("AGENT", sf.LEFT, None, "ALL", "event_not_forwarded"),
        ("SYSTEM", "application/vnd.amazonaws.connect.event.transfer.succeeded", None, "ALL", "event_not_forwarded"),
        ("SYSTEM", "application/vnd.amazonaws.connect.event.transfer.failed", None, "ALL", "event_not_forwarded"),
        (
            "AGENT",
            "application/vnd.amazonaws.connect.event.message.delivered",
            '{"messageId":"x"}',
            "ALL",
            "event_not_forwarded",
        ),
        (
            "AGENT",
            "application/vnd.amazonaws.connect.event.message.read",
            '{"messageId":"x"}',
            "ALL",
            "event_not_forwarded",
        ),
        (
            "SYSTEM",
            "application/vnd.amazonaws.connect.event.connection.acknowledged",
            None,
            "ALL",
            "event_not_forwarded",
        ),
        ("SYSTEM", "application/vnd.amazonaws.connect.event.something.new", None, "ALL", "event_not_forwarded"),
        ("CUSTOM_BOT", sf.INTERACTIVE_RESPONSE, '{"data":{}}', "ALL", "interactive_response"),
        ("AGENT", "image/png", "binary?", "ALL", "content_type_not_supported"),
    ],
)
def test_what_the_customer_must_not_see_is_ignored_before_any_lookup(
    world, role, content_type, content, visibility, reason
):
    result = run(
        world, stream_item("contact-1", role=role, content_type=content_type, content=content, visibility=visibility)
    )
    assert result.outcomes[0].reason == reason
    assert world.sent() == []


def test_json_that_is_not_a_template_is_never_sent_raw(world):
    world.seed()
    result = run(world, stream_item("contact-1", content_type="application/json", content='{"orderId": 12}'))
    assert result.outcomes[0].reason == "message_unreadable" and world.sent() == []


def test_json_carrying_a_template_is_rendered(world):
    world.seed()
    world.graph_ok()
    template = {
        "templateType": "QuickReply",
        "version": "1.0",
        "data": {"content": {"title": "Rate us", "elements": [{"title": "Good"}]}},
    }
    run(world, stream_item("contact-1", content_type="application/json", content=json.dumps(template)))
    assert world.sent()[0]["message"]["quick_replies"][0]["title"] == "Good"


def test_unknown_contact_is_dropped_when_old_and_retried_when_fresh(world):
    old = run(world, stream_item("contact-unknown", at=time.time() - 3600))
    fresh = run(world, stream_item("contact-unknown"))
    assert old.outcomes[0].reason == "unknown_contact" and not old.retry
    assert fresh.outcomes[0].reason == "contact_not_yet_known" and fresh.retry
    typing = run(world, stream_item("contact-unknown", content_type=sf.TYPING, content=None))
    assert typing.outcomes[0].reason == "unknown_contact" and not typing.retry  # not worth a retry
    assert world.sent() == []


# ------------------------------------------------------------------------------------------- chat end


def test_chat_end_closes_the_session_after_goodbye_messages_in_the_same_event(world):
    world.seed()
    world.graph_ok(2)
    ended = stream_item("contact-1", role="SYSTEM", content_type=sf.CHAT_ENDED, content=None)
    result = run(
        world,
        ended,
        stream_item("contact-1", content="Goodbye!"),
        stream_item("contact-1", role="SYSTEM", content="Chat closed. Thanks."),
    )
    assert [o.reason for o in result.outcomes] == ["conversation_ended", "sent", "sent"]
    assert world.texts() == ["Goodbye!", "Chat closed. Thanks."]
    assert world.store.customer("messenger", PSID, time.time()).state.value == "ended"
    # A late SYSTEM message streamed after the end still reaches the customer.
    world.graph_ok()
    late = run(world, stream_item("contact-1", role="SYSTEM", content="Please rate us."))
    assert late.outcomes[0].reason == "sent" and world.texts()[-1] == "Please rate us."


def test_customer_leaving_closes_the_session(world):
    world.seed()
    result = run(world, stream_item("contact-1", role="CUSTOMER", content_type=sf.LEFT, content=None))
    assert result.outcomes[0].reason == "conversation_ended"
    assert world.store.customer("messenger", PSID, time.time()).state.value == "ended"


def test_chat_end_for_an_unknown_contact_is_harmless(world):
    result = run(world, stream_item("nobody", role="SYSTEM", content_type=sf.CHAT_ENDED, content=None))
    assert result.outcomes[0].reason == "conversation_ended" and not result.retry


# ------------------------------------------------------------------------------------------- 24 hours


def test_outside_24h_without_the_tag_is_skipped_and_the_agent_told(world):
    world.seed(last_message_age=25 * 3600)
    world.stub.add_response(
        "send_message",
        {"Id": "n1", "AbsoluteTime": "2026-01-01T00:00:00Z"},
        text_request(CONNECTION_TOKEN, WINDOW_CLOSED_NOTE),
    )
    result = run(world, stream_item("contact-1", content="Are you still there?"))
    assert result.outcomes[0].reason == "outside_window_tag_disabled" and not result.retry
    assert world.sent() == []
    world.stub.assert_no_pending_responses()


def test_outside_24h_with_the_tag_sends_human_agent(world):
    world.human_agent_tag = True
    world.relay = world.build()
    world.seed(last_message_age=30 * 3600)
    world.graph_ok()
    run(world, stream_item("contact-1", content="Following up on your case."))
    (body,) = world.sent()
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_typing_is_not_sent_outside_the_response_window(world):
    world.human_agent_tag = True
    world.relay = world.build()
    world.seed(last_message_age=30 * 3600)
    result = run(world, stream_item("contact-1", content_type=sf.TYPING, content=None))
    assert result.outcomes[0].reason == "typing_outside_window" and world.sent() == []


# ------------------------------------------------------------------------------------------- failures


def test_graph_5xx_then_success_delivers_once(world):
    world.seed()
    world.graph_error(2, status=503)
    world.graph_ok()
    item = stream_item("contact-1", content="Your refund is on its way.")
    assert run(world, item).outcomes[0].reason == "sent"
    assert world.texts() == ["Your refund is on its way."] * 2  # the failed attempt and the delivered one
    assert run(world, item).outcomes[0].reason == "duplicate"  # SNS redelivery: nothing sent again
    assert len(world.sent()) == 2


def test_rate_limit_613_backs_off_and_delivers(world):
    world.seed()
    world.graph_error(613)
    world.graph_ok()
    assert run(world, stream_item("contact-1")).outcomes[0].reason == "sent"
    assert world.sleeps == [1.0]


def test_one_records_failure_does_not_lose_the_others_and_the_retry_sends_only_what_failed(world):
    world.seed()
    first, second, third = (stream_item("contact-1", content=t) for t in ("one", "two", "three"))
    world.graph_ok()
    for _ in range(4):  # "two": the first try and three transport retries all fail
        world.graph_error(1, status=500)
    world.graph_ok()
    result = run(world, first, second, third)
    assert [o.reason for o in result.outcomes] == ["sent", "graph_http_500", "sent"]
    assert result.retry and result.failed == 1
    world.graph_ok()
    retried = run(world, first, second, third)
    assert [o.reason for o in retried.outcomes] == ["duplicate", "sent", "duplicate"] and not retried.retry
    assert world.texts().count("two") == 5 and world.texts().count("one") == 1 and world.texts().count("three") == 1


@pytest.mark.parametrize(
    "code,subcode,reason",
    [
        (10, 2018278, "outside_window"),
        (551, None, "recipient_unavailable"),
        (368, None, "policy_blocked"),
        (100, None, "invalid_parameter"),
    ],
)
def test_permanent_graph_errors_are_logged_and_not_retried(world, code, subcode, reason, captured_logs):
    world.seed()
    world.graph_error(code, subcode)
    item = stream_item("contact-1", content="text canary 77c1")
    result = run(world, item)
    assert result.outcomes[0].reason == reason and not result.retry
    assert run(world, item).outcomes[0].reason == "duplicate"
    handled = [e for e in captured_logs.events() if e["event"] == "stream_item_handled"]
    assert handled[0]["outcome"] == reason
    captured_logs.assert_absent("text canary 77c1")


def test_bad_token_is_retried_and_loud(world, captured_logs):
    """A token still refused after rereading the secret is retried (a rotation half done), never dropped."""
    world.seed()
    world.graph_error(190)
    world.graph_error(190)
    result = run(world, stream_item("contact-1"))
    assert result.outcomes[0].reason == "graph_token_rejected" and result.retry
    assert any(e["event"] == "graph_token_rejected" and e["level"] == "CRITICAL" for e in captured_logs.events())


def test_malformed_records_do_not_stop_the_good_ones(world, captured_logs):
    world.seed()
    world.graph_ok()
    event = sns_event(stream_item("contact-1", content="still delivered"))
    event["Records"].insert(0, {"Sns": {"MessageId": "bad-1", "Message": "{oops"}})
    event["Records"].append({"nonsense": True})
    result = world.relay.handle_event(event)
    assert [o.reason for o in result.outcomes] == ["malformed:message_not_json", "sent", "malformed:record_without_sns"]
    assert not result.retry and world.texts() == ["still delivered"]
    malformed = [e for e in captured_logs.events() if e["event"] == "stream_record_malformed"]
    assert [e["reason"] for e in malformed] == ["message_not_json", "record_without_sns"]


def test_dynamodb_outage_is_transient(world):
    world.seed()
    world.db.delete_table(TableName="connect-guard-sessions")
    result = run(world, stream_item("contact-1"))
    assert result.retry  # a missing table is a deployment problem: retried, never acknowledged


# ------------------------------------------------------------------------------------------- redaction


def test_outbound_redaction_masks_configured_types(world):
    world.outbound_pii = "CREDIT_DEBIT_NUMBER"
    world.relay = world.build()
    world.seed()
    world.graph_ok()
    run(world, stream_item("contact-1", content="Card on file: 4111 1111 1111 1111."))
    assert world.texts() == ["Card on file: [CREDIT_DEBIT_NUMBER]."]


def test_outbound_redaction_is_off_by_default(world):
    world.seed()
    world.graph_ok()
    run(world, stream_item("contact-1", content="Card on file: 4111 1111 1111 1111."))
    assert world.texts() == ["Card on file: 4111 1111 1111 1111."]


# ------------------------------------------------------------------------------------------- agent attachments

SIGNED_URL = "https://connect-attachments.test/a/att-0001?X-Amz-Signature=abc"


def expect_get_attachment(world, size=1234, attachment_id="att-0001"):
    world.stub.add_response(
        "get_attachment",
        {"Url": SIGNED_URL, "UrlExpiry": "2026-01-01T00:05:00Z", "AttachmentSizeInBytes": size},
        {"ConnectionToken": CONNECTION_TOKEN, "AttachmentId": attachment_id, "UrlExpiryInSeconds": 300},
    )


def test_agent_attachment_is_sent_by_signed_url_with_its_kind(world):
    world.seed()
    expect_get_attachment(world)
    world.graph_ok()
    result = run(world, stream_item("contact-1", attachments=[attachment("att-0001", "image/png")]))
    assert result.outcomes[0].reason == "sent"
    assert world.sent()[0]["message"] == {
        "attachment": {"type": "image", "payload": {"url": SIGNED_URL, "is_reusable": False}}
    }


def test_large_image_goes_as_a_file_and_pdf_as_a_file(world):
    world.seed()
    expect_get_attachment(world, size=9 * 1024 * 1024)
    expect_get_attachment(world, attachment_id="att-0002")
    world.graph_ok(2)
    run(
        world,
        stream_item("contact-1", attachments=[attachment("att-0001", "image/jpeg")]),
        stream_item("contact-1", attachments=[attachment("att-0002", "application/pdf")]),
    )
    assert [b["message"]["attachment"]["type"] for b in world.sent()] == ["file", "file"]


def test_when_meta_cannot_fetch_the_file_the_customer_gets_a_text_fallback(world):
    world.seed()
    expect_get_attachment(world)
    world.graph_error(100, 2018008)
    world.graph_ok()
    result = run(world, stream_item("contact-1", attachments=[attachment("att-0001", "video/mp4")]))
    assert result.outcomes[0].reason == "attachment_fallback_sent"
    assert world.texts() == [ATTACHMENT_FALLBACK_TEXT]


def test_rejected_attachment_is_not_sent(world):
    world.seed()
    result = run(world, stream_item("contact-1", attachments=[attachment("att-0001", status="REJECTED")]))
    assert result.outcomes[0].reason == "attachment_rejected" and world.sent() == []


def test_expired_connection_is_renewed_before_get_attachment(world):
    world.seed(connection_valid_for=-10)
    world.stub.add_response(
        "create_participant_connection",
        {"ConnectionCredentials": {"ConnectionToken": CONNECTION_TOKEN, "Expiry": "2099-01-01T00:00:00Z"}},
        connection_request(PARTICIPANT_TOKEN),
    )
    expect_get_attachment(world)
    world.graph_ok()
    assert run(world, stream_item("contact-1", attachments=[attachment()])).outcomes[0].reason == "sent"
    world.stub.assert_no_pending_responses()


def test_attachment_of_an_ended_chat_gets_the_fallback(world):
    world.seed()
    world.store.end_contact("contact-1")
    world.graph_ok()
    result = run(world, stream_item("contact-1", attachments=[attachment()]))
    assert result.outcomes[0].reason == "attachment_fallback_sent" and world.texts() == [ATTACHMENT_FALLBACK_TEXT]


def test_get_attachment_throttled_is_retried_later(world):
    world.seed()
    world.stub.add_client_error("get_attachment", "ThrottlingException", http_status_code=429)
    world.stub.add_client_error("get_attachment", "ThrottlingException", http_status_code=429)
    world.stub.add_client_error("get_attachment", "ThrottlingException", http_status_code=429)
    result = run(world, stream_item("contact-1", attachments=[attachment()]))
    assert result.retry and world.sent() == []


def test_no_token_text_or_url_reaches_the_logs(world, captured_logs):
    world.seed()
    expect_get_attachment(world)
    world.graph_ok(2)
    run(
        world,
        stream_item("contact-1", content="My SSN canary is 123-45-6789"),
        stream_item("contact-1", attachments=[attachment(name="canary-filename.png")]),
    )
    captured_logs.assert_absent(
        "123-45-6789",
        "SSN canary",
        CONNECTION_TOKEN,
        PARTICIPANT_TOKEN,
        SIGNED_URL,
        "canary-filename",
        SECRET["PAGE_TOKEN"],
        SECRET["APP_SECRET"],
        PSID,
    )


def test_a_failed_dedupe_completion_after_a_send_never_causes_a_resend(world, monkeypatch, captured_logs):
    """Graph has no idempotency key: once the customer has the message, a DynamoDB hiccup must not
    turn into a Lambda retry that sends it again."""
    world.seed()
    world.graph_ok()

    def throttled(*args, **kwargs):
        raise TransientError("dynamodb_throttled")

    monkeypatch.setattr(world.dedupe, "complete", throttled)
    result = run(world, stream_item("contact-1", content="Your refund is on its way."))
    assert [o.reason for o in result.outcomes] == ["sent"] and not result.retry
    assert world.texts() == ["Your refund is on its way."]
    assert any(e["event"] == "dedupe_complete_failed" for e in captured_logs.events())
