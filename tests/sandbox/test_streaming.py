"""Chat streaming: SNS-shaped events, in order, retried like Lambda's async invocations."""

from __future__ import annotations

import json

from sandbox.connect.streaming import StreamDelivery, sns_event
from sandbox.lambdas import Invocation
from tests.sandbox.fakes import ScriptedInvoker

TOPIC = "arn:aws:sns:us-east-1:123456789012:connect-guard-chat-stream"
ITEM = {
    "Id": "i-1",
    "Type": "MESSAGE",
    "ContentType": "text/plain",
    "Content": "hi",
    "ParticipantRole": "AGENT",
    "InitialContactId": "c-1",
    "ContactId": "c-1",
    "ParticipantId": "p",
    "DisplayName": "Agent",
    "AbsoluteTime": "2026-01-01T00:00:00.000Z",
}


def test_sns_event_carries_the_item_and_the_documented_attributes():
    record = sns_event(TOPIC, "instance", ITEM)["Records"][0]
    assert record["EventSource"] == "aws:sns"
    sns = record["Sns"]
    assert sns["Type"] == "Notification" and sns["TopicArn"] == TOPIC
    assert json.loads(sns["Message"]) == ITEM
    attributes = {name: value["Value"] for name, value in sns["MessageAttributes"].items()}
    assert attributes == {
        "InitialContactId": "c-1",
        "ContactId": "c-1",
        "ParticipantRole": "AGENT",
        "InstanceId": "instance",
        "AccountId": "123456789012",
        "Type": "MESSAGE",
        "ContentType": "text/plain",
        "MessageVisibility": "ALL",
    }
    assert all(value["Type"] == "String" for value in sns["MessageAttributes"].values())


def test_items_are_delivered_in_order():
    invoker = ScriptedInvoker()
    stream = StreamDelivery(invoker, TOPIC, "instance")
    for number in range(5):
        stream.publish(TOPIC, {**ITEM, "Id": f"i-{number}"})
    assert stream.wait_idle(10)
    ids = [json.loads(event["Records"][0]["Sns"]["Message"])["Id"] for _, event in invoker.events]
    assert ids == [f"i-{number}" for number in range(5)]
    assert {d.status for d in stream.deliveries} == {"DELIVERED"}


def test_a_failing_handler_is_retried_twice_then_the_item_is_dropped():
    invoker = ScriptedInvoker(connect_stream_handler=[Invocation(None, "TransientError")])
    stream = StreamDelivery(invoker, TOPIC, "instance")
    stream.publish(TOPIC, ITEM)
    assert stream.wait_idle(10)
    assert len(invoker.events) == 3 and stream.deliveries[0].status == "FAILED"


def test_a_retry_that_succeeds_delivers_once():
    invoker = ScriptedInvoker(connect_stream_handler=[Invocation(None, "TransientError"), Invocation(None, None)])
    stream = StreamDelivery(invoker, TOPIC, "instance")
    stream.publish(TOPIC, ITEM)
    assert stream.wait_idle(10)
    assert len(invoker.events) == 2 and stream.deliveries[0].status == "DELIVERED"


def test_other_topics_have_no_subscriber():
    invoker = ScriptedInvoker()
    stream = StreamDelivery(invoker, TOPIC, "instance")
    stream.publish(TOPIC + "-other", ITEM)
    assert stream.wait_idle(10)
    assert invoker.events == [] and stream.deliveries[0].status == "NOT_SUBSCRIBED"


def test_a_redelivery_repeats_the_same_notification():
    invoker = ScriptedInvoker()
    stream = StreamDelivery(invoker, TOPIC, "instance")
    stream.publish(TOPIC, ITEM)
    assert stream.redeliver("i-1") and not stream.redeliver("unknown")
    assert stream.wait_idle(10)
    (_, first), (_, again) = invoker.events
    assert first == again
