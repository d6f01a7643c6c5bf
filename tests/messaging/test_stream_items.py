"""The typed view of Connect streaming records: every field from attributes or body, clear reasons for junk."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.messaging.connect.stream_items import MalformedRecord, StreamItem, parse_event, parse_record
from tests.messaging.stream_fixtures import CHAT_ENDED, LEFT, TYPING, attachment, sns_event, stream_item


def _items(event) -> list[StreamItem]:
    """parse_event for records that must all parse."""
    items = []
    for item in parse_event(event):
        assert isinstance(item, StreamItem)
        items.append(item)
    return items


def _first_malformed(event) -> MalformedRecord:
    """The first record parse_event yields, which must be malformed."""
    first = parse_event(event)[0]
    assert isinstance(first, MalformedRecord)
    return first


def test_agent_message_is_read_from_attributes_and_body():
    event = sns_event(stream_item("contact-1", content="Hi there", current_contact_id="contact-2", at=1700000000.5))
    (item,) = parse_event(event)
    assert isinstance(item, StreamItem)
    assert (item.initial_contact_id, item.contact_id, item.role, item.item_type) == (
        "contact-1",
        "contact-2",
        "AGENT",
        "MESSAGE",
    )
    assert (item.content_type, item.content, item.visibility) == ("text/plain", "Hi there", "ALL")
    assert item.visible_to_customer and not item.ends_conversation and not item.is_typing
    assert item.absolute_time == 1700000000.5
    assert item.sns_message_id.startswith("sns-")


def test_event_kinds_and_attachments():
    typing, ended, left, file = _items(
        sns_event(
            stream_item("c", content_type=TYPING, content=None),
            stream_item("c", content_type=CHAT_ENDED, content=None, role="SYSTEM"),
            stream_item("c", content_type=LEFT, content=None, role="CUSTOMER"),
            stream_item("c", attachments=[attachment("a-1", "application/pdf", "APPROVED")]),
        )
    )
    assert typing.is_typing
    assert ended.is_chat_ended and ended.ends_conversation
    assert left.is_customer_leaving and left.ends_conversation
    assert file.is_attachment and file.attachments[0].attachment_id == "a-1"
    assert file.attachments[0].content_type == "application/pdf" and file.attachments[0].status == "APPROVED"


def test_agent_leaving_does_not_end_the_conversation():
    (item,) = _items(sns_event(stream_item("c", content_type=LEFT, content=None, role="AGENT")))
    assert not item.ends_conversation


def test_missing_visibility_is_not_customer_visible():
    message, attributes = stream_item("c")
    del attributes["MessageVisibility"]
    (item,) = _items(sns_event((message, attributes)))
    assert item.visibility == "" and not item.visible_to_customer


def test_attribute_missing_falls_back_to_the_body():
    message, attributes = stream_item("contact-9", role="SYSTEM")
    (item,) = _items(sns_event((message, {"MessageVisibility": attributes["MessageVisibility"]})))
    assert (item.initial_contact_id, item.role, item.content_type) == ("contact-9", "SYSTEM", "text/plain")


def _record(message):
    return {"Sns": {"MessageId": "m-1", "Message": message, "MessageAttributes": {}}}


def test_malformed_records_get_clear_reasons():
    cases = {
        "record_without_sns": {"EventSource": "aws:sns"},
        "message_missing": {"Sns": {"Message": ""}},
        "message_not_json": _record("{not json"),
        "message_not_object": _record("[1, 2]"),
        "item_id_missing": _record(json.dumps({"InitialContactId": "c", "ContentType": "text/plain"})),
        "initial_contact_id_missing": _record(json.dumps({"Id": "i", "ContentType": "text/plain"})),
        "content_type_missing": _record(json.dumps({"Id": "i", "InitialContactId": "c"})),
        "content_not_string": _record(
            json.dumps({"Id": "i", "InitialContactId": "c", "ContentType": "text/plain", "Content": 5})
        ),
        "message_too_large": _record(json.dumps({"Id": "i", "Content": "x" * 300_000})),
    }
    for reason, record in cases.items():
        parsed = parse_record(record, 3)
        assert isinstance(parsed, MalformedRecord) and parsed.reason == reason and parsed.index == 3


def test_event_without_records():
    assert _first_malformed({}).reason == "event_without_records"
    assert _first_malformed({"Records": "nope"}).reason == "event_without_records"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None)
@given(json_values, json_values)
def test_parser_never_raises_on_hostile_records(body, attributes):
    record = {"Sns": {"Message": json.dumps(body), "MessageAttributes": attributes}}
    parsed = parse_record(record)
    assert isinstance(parsed, (StreamItem, MalformedRecord))
    assert isinstance(parse_record(body), MalformedRecord)
