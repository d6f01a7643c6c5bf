"""The event view never raises, and the use case answers any shape at all."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.processor.event import MAX_CONTENT_BYTES, ChatMessage, Malformed, read
from tests.processor.helpers import CHAT_CONTENT_FIELDS, event, processor

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
PROCESSOR = processor()


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_value_reads_without_raising(value):
    assert isinstance(read(value), (ChatMessage, Malformed))
    assert PROCESSOR.process(value)["status"] in ("APPROVED", "REJECTED", "PROCESSED")


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={name: JSON for name in CHAT_CONTENT_FIELDS}))
def test_any_chat_content_shape_is_answered(chat):
    answer = PROCESSOR.process({"version": "1.0", "chatContent": chat})
    assert answer["status"] in ("APPROVED", "REJECTED", "PROCESSED")
    if not isinstance(chat.get("content"), str):
        assert answer["status"] == "REJECTED"


def test_a_well_formed_event_reads_every_field():
    message = read(event("hi", "Text/Markdown; charset=UTF-8", role="agent", message_id="m-1", initial="c-0"))
    assert isinstance(message, ChatMessage)
    assert message.content_type == "text/markdown" and message.role == "AGENT" and not message.from_customer
    assert message.message_id == "m-1" and message.conversation_key == "c-0"


def test_the_size_limit_counts_utf8_bytes():
    assert isinstance(read(event("é" * (MAX_CONTENT_BYTES // 2))), ChatMessage)
    over = read(event("é" * (MAX_CONTENT_BYTES // 2 + 1)))
    assert isinstance(over, Malformed) and over.reason == "content_oversized" and over.content is None
