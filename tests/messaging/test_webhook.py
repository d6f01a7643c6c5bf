"""Webhook contract: signature, verification parameters, one typed event per item kind, fuzzed parser."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.messaging.meta import webhook
from chalicelib.messaging.meta.webhook import (
    Attachments,
    DeliveryReceipt,
    Echo,
    Other,
    PayloadError,
    Postback,
    QuickReplyTap,
    Reaction,
    Read,
    Subscription,
    Text,
    Unparseable,
    message_key,
    parse_payload,
)
from tests.messaging.fixtures import PAGE_ID, SECRET, body_of, echo_item, envelope, item, sign, text_item

APP_SECRET = SECRET["APP_SECRET"]


# ------------------------------------------------------------------------------------------ signature


def test_signature_over_the_raw_bytes():
    body = b'{"object":"page","entry":[{"messaging":[{"message":{"text":"caf\\u00e9"}}]}]}'
    assert webhook.signature_matches(APP_SECRET, body, sign(body))
    # Re-serialising the parsed JSON changes the bytes (Meta escapes non-ASCII): no match.
    reserialised = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    assert not webhook.signature_matches(APP_SECRET, reserialised, sign(body))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=" + "0" * 40,
        "sha256=",
        "sha256=" + "0" * 64,
        "SHA256=abc",
        "sha256=zz",
    ],
)
def test_bad_signature_headers_never_match(header):
    assert not webhook.signature_matches(APP_SECRET, b"{}", header)


def test_signature_with_the_wrong_secret_fails():
    assert not webhook.signature_matches(APP_SECRET, b"{}", sign(b"{}", "another-secret"))


def test_subscription_parameters():
    assert Subscription.from_query(None) == Subscription(None, None, None)
    complete = Subscription.from_query({"hub.mode": "subscribe", "hub.verify_token": "t", "hub.challenge": "42"})
    assert complete.complete
    assert not Subscription.from_query({"hub.mode": "subscribe", "hub.verify_token": "t"}).complete


# ------------------------------------------------------------------------------------------ every event kind


def _one(raw_item, standby=False):
    events = parse_payload(body_of(envelope(raw_item, standby=standby)))
    assert len(events) == 1
    return events[0]


def test_text():
    event = _one(text_item("hello", mid="m_1", reply_to={"mid": "m_0"}))
    assert event == Text(event.origin, "m_1", "hello", "m_0")
    assert event.origin.sender_id == "psid-1" and event.origin.recipient_id == PAGE_ID
    assert event.origin.timestamp_ms == 1458692752478 and not event.origin.standby


def test_quick_reply_keeps_title_and_payload_apart():
    event = _one(text_item("Yes please", mid="m_2", quick_reply={"payload": "DEV_YES"}))
    assert isinstance(event, QuickReplyTap) and event.text == "Yes please" and event.payload == "DEV_YES"


def test_postback():
    event = _one(item(postback={"title": "Get Started", "payload": "GET_STARTED", "mid": "m_3"}))
    assert event == Postback(event.origin, "m_3", "Get Started", "GET_STARTED")


def test_postback_without_mid_has_a_stable_dedupe_key():
    event = _one(item(postback={"title": "Get Started", "payload": "GET_STARTED"}))
    assert event.mid is None
    assert message_key(event) == message_key(_one(item(postback={"title": "Get Started", "payload": "GET_STARTED"})))
    assert message_key(event).startswith("psid-1:1458692752478:postback:")


def test_two_postbacks_without_mid_in_the_same_second_have_two_keys():
    """Meta's reference postback has no mid (before v11) and a string timestamp in seconds."""
    first = _one(item(postback={"title": "Get Started", "payload": "GET_STARTED"}, timestamp="1527459824"))
    second = _one(item(postback={"title": "Talk to an agent", "payload": "AGENT"}, timestamp="1527459824"))
    assert first.origin.timestamp_ms == 1527459824
    assert message_key(first) != message_key(second)


def test_attachments_and_sticker():
    event = _one(
        item(
            message={
                "mid": "m_4",
                "attachments": [
                    {"type": "image", "payload": {"url": "https://cdn.example/x.jpg"}},
                    {"type": "image", "payload": {"url": "https://cdn.example/s.png", "sticker_id": 369239263222822}},
                    {"type": "file"},
                ],
            }
        )
    )
    assert isinstance(event, Attachments)
    assert [a.type for a in event.attachments] == ["image", "image", "file"]
    assert event.attachments[1].sticker_id == "369239263222822"
    assert event.attachments[2].url is None


def test_echo_is_recognised_whatever_else_it_carries():
    event = _one(echo_item())
    assert isinstance(event, Echo) and event.origin.sender_id == PAGE_ID and event.app_id == "1517776481860111"


@pytest.mark.parametrize(
    "raw, kind",
    [
        (item(delivery={"mids": ["m_1"], "watermark": 1458668856253}), DeliveryReceipt),
        (item(read={"watermark": 1458668856253}), Read),
        (item(reaction={"reaction": "love", "emoji": "\u2764", "action": "react", "mid": "m_1"}), Reaction),
        (item(optin={"ref": "x"}), Other),
        (item(referral={"ref": "x"}), Other),
        (item(pass_thread_control={"new_owner_app_id": "1"}), Other),
        (item(policy_enforcement={"action": "block"}), Other),
        (item(something_new={}), Other),
    ],
)
def test_events_we_do_not_act_on(raw, kind):
    assert isinstance(_one(raw), kind)


def test_standby_items_are_marked():
    event = _one(text_item("hi"), standby=True)
    assert isinstance(event, Text) and event.origin.standby


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("not a dict", "item_not_an_object"),
        ({"message": {"mid": "m", "text": "hi"}}, "item_without_sender"),
        (item(message="hi"), "message_not_an_object"),
        (item(message={"text": "hi"}), "message_without_mid"),
        (item(message={"mid": "m"}), "message_without_content"),
        (item(message={"mid": "m", "attachments": [{"payload": {}}]}), "attachments_malformed"),
        (item(postback={}), "postback_without_content"),
    ],
)
def test_malformed_items_become_unparseable(raw, reason):
    assert _one(raw) == Unparseable(reason)


def test_several_entries_and_items_stay_in_order():
    payload = envelope(text_item("one", mid="m_1"), item(read={"watermark": 1}), text_item("two", mid="m_2"))
    payload["entry"].append({"id": PAGE_ID, "time": 1, "messaging": [text_item("three", mid="m_3", psid="psid-2")]})
    kinds = [(e.kind, getattr(e, "text", None)) for e in parse_payload(body_of(payload))]
    assert kinds == [("text", "one"), ("read", None), ("text", "two"), ("text", "three")]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "not_json"),
        (b"{not json", "not_json"),
        (b"\xff\xfe", "not_json"),
        (b"[]", "not_an_object"),
        (b'{"object": "user", "entry": []}', "not_a_messaging_webhook"),
        (b'{"entry": []}', "not_a_messaging_webhook"),
        (b"[" * 100000 + b"]" * 100000, "not_json"),
    ],
)
def test_bodies_that_are_not_meta_messaging_webhooks(body, reason):
    with pytest.raises(PayloadError) as info:
        parse_payload(body)
    assert info.value.reason == reason


# ------------------------------------------------------------------------------------------ fuzzing

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "message",
        "postback",
        "delivery",
        "read",
        "reaction",
        "sender",
        "recipient",
        "timestamp",
        "mid",
        "text",
        "attachments",
        "is_echo",
        "quick_reply",
        "payload",
        "type",
        "url",
        "title",
    ]
)
_messengerish = st.recursive(_json, lambda children: st.dictionaries(_keys, children, max_size=5), max_leaves=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_messengerish, max_size=5))
def test_parser_never_raises_on_any_items(items):
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "messaging": items, "standby": items}]})
    events = parse_payload(body.encode())
    assert len(events) == 2 * len(items)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200) | _json.map(lambda v: json.dumps(v).encode()))
def test_parser_raises_only_payload_error(body):
    try:
        parse_payload(body)
    except PayloadError:
        pass
