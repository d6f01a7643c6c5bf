"""The stream subscription's filter policy (set by `make deploy`) never drops an item the stream
handler would act on; it only spares invocations for items the customer must not see."""

from __future__ import annotations

import itertools
import json

import pytest
from moto import mock_aws

from infra.deploy import CHAT_ENDED, PARTICIPANT_LEFT, STREAM_FILTER_POLICY
from tests.support import REGION

ROLES = ("AGENT", "SYSTEM", "CUSTOMER", "CUSTOM_BOT", "SUPERVISOR")
VISIBILITIES = ("AGENT", "CUSTOMER", "ALL", None)
CONTENT_TYPES = (
    "text/plain",
    "application/vnd.amazonaws.connect.event.typing",
    CHAT_ENDED,
    PARTICIPANT_LEFT,
    "application/vnd.amazonaws.connect.event.participant.joined",
)


def items():
    for number, (role, visibility, content_type) in enumerate(itertools.product(ROLES, VISIBILITIES, CONTENT_TYPES)):
        attributes = {
            "ParticipantRole": role,
            "ContentType": content_type,
            "InitialContactId": "c1",
            "ContactId": "c1",
            "Type": "EVENT" if "event" in content_type else "MESSAGE",
        }
        if visibility:
            attributes["MessageVisibility"] = visibility
        body = {
            "Id": f"item-{number}",
            "Type": attributes["Type"],
            "ContentType": content_type,
            "ParticipantRole": role,
            "InitialContactId": "c1",
            "ContactId": "c1",
        }
        if content_type == "text/plain":
            body["Content"] = "hello"
        yield f"item-{number}", attributes, body


@pytest.fixture(scope="module")
def delivered() -> set[str]:
    """Item ids that pass the filter, as SNS (moto) evaluates it."""
    with mock_aws():
        import boto3

        sns, sqs = boto3.client("sns", REGION), boto3.client("sqs", REGION)
        topic = sns.create_topic(Name="chat-stream")["TopicArn"]
        queue = sqs.create_queue(QueueName="handler")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"FilterPolicy": json.dumps(STREAM_FILTER_POLICY), "RawMessageDelivery": "true"},
        )
        for item_id, attributes, body in items():
            sns.publish(
                TopicArn=topic,
                Message=json.dumps(body),
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            )
        seen: set[str] = set()
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                seen.add(json.loads(message["Body"])["Id"])
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return seen


def test_customer_visible_items_chat_ends_and_unlabelled_items_pass(delivered):
    for item_id, attributes, _ in items():
        visibility = attributes.get("MessageVisibility")
        expected = visibility in ("CUSTOMER", "ALL", None) or attributes["ContentType"] in (
            CHAT_ENDED,
            PARTICIPANT_LEFT,
        )
        assert (item_id in delivered) == expected, attributes


def test_agent_only_items_are_filtered_out(delivered):
    agent_only = [
        i
        for i, a, _ in items()
        if a.get("MessageVisibility") == "AGENT" and a["ContentType"] not in (CHAT_ENDED, PARTICIPANT_LEFT)
    ]
    assert agent_only and not set(agent_only) & delivered


def test_the_filter_never_drops_an_item_the_handler_acts_on(delivered):
    try:
        from chalicelib.messaging import outbound
        from chalicelib.messaging.connect import stream_items
    except ImportError:
        pytest.skip("the stream handler's routing has not landed yet")
    acted_on = set()
    for item_id, attributes, body in items():
        record = {
            "EventSource": "aws:sns",
            "Sns": {
                "MessageId": f"sns-{item_id}",
                "Message": json.dumps(body),
                "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in attributes.items()},
            },
        }
        item = stream_items.parse_record(record)
        if isinstance(item, stream_items.StreamItem) and not outbound.route(item).startswith("ignore"):
            acted_on.add(item_id)
    assert acted_on and acted_on <= delivered
