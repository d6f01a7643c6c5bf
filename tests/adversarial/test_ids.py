"""Issue 17: an id that cannot be stored (a lone surrogate, which JSON allows as `\\ud800`, or one longer than
DynamoDB's key allows) made the whole batch answer 500, and Meta retried it forever. Such an item is now
refused alone, with a reason code, and the batch answers 200."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.messaging.meta.webhook import MAX_ID_BYTES, Text, Unparseable, parse_payload


def body(sender: str = "123", mid: str = "m_1", text: str = "hi") -> bytes:
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "1",
                    "time": 1,
                    "messaging": [
                        {
                            "sender": {"id": sender},
                            "recipient": {"id": "1"},
                            "timestamp": 1,
                            "message": {"mid": mid, "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()


@pytest.mark.parametrize("field", ["sender", "mid"])
@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", "x" * (MAX_ID_BYTES + 1), "é" * (MAX_ID_BYTES // 2 + 1)])
def test_an_id_that_cannot_be_stored_is_refused_alone(field, value):
    (event,) = parse_payload(body(**{field: value}))
    assert isinstance(event, Unparseable) and event.reason == "id_not_storable"


@given(st.text(min_size=1, max_size=40))
@settings(max_examples=200)
def test_every_parsed_id_encodes_and_fits_a_key(sender):
    for event in parse_payload(body(sender=sender, mid=sender)):
        origin = getattr(event, "origin", None)
        if origin is not None:
            assert len(origin.sender_id.encode("utf-8")) <= MAX_ID_BYTES
        mid = getattr(event, "mid", None)
        if mid:
            assert len(mid.encode("utf-8")) <= MAX_ID_BYTES


def test_the_batch_goes_on_past_an_unstorable_item():
    """One bad item is refused alone: the others of the batch are still parsed (and the answer is 200)."""
    good = json.loads(body())["entry"][0]["messaging"][0]
    bad = json.loads(body(sender="\ud800"))["entry"][0]["messaging"][0]
    raw = json.dumps({"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [bad, good]}]}).encode()
    first, second = parse_payload(raw)
    assert isinstance(first, Unparseable) and isinstance(second, Text) and second.kind == "text"
    assert second.origin.sender_id == "123"
