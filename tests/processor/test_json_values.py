"""application/json and interactive messages: masks inside string values only; the JSON always parses, keeps its
keys, their order and its shape (property tests), and what cannot be masked in place is rejected."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.processor import json_values
from chalicelib.processor.content_types import INTERACTIVE, INTERACTIVE_RESPONSE
from tests.processor.helpers import CARD, content_of, event, processor

PROCESSOR = processor()

LIST_PICKER: dict[str, Any] = {
    "templateType": "ListPicker",
    "version": "1.0",
    "data": {
        "content": {
            "title": "Which card should we charge?",
            "subtitle": f"Card on file {CARD}",
            "elements": [
                {"title": "Visa ending 1111", "subtitle": "4111 1111 1111 1111 exp 12/29"},
                {"title": "Pay another way", "imageType": "URL", "imageData": "https://example.com/pay.png"},
            ],
        }
    },
}


def process(content: str, content_type: str = "application/json", role: str = "CUSTOMER") -> dict:
    return PROCESSOR.process(event(content, content_type, role=role))


def shape(value):
    """The document with every string value replaced: keys, order, types and nesting are what is left."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(item) for item in value]
    return "S" if isinstance(value, str) else value


@pytest.mark.parametrize("content_type", ["application/json", INTERACTIVE, INTERACTIVE_RESPONSE])
def test_interactive_list_picker_is_masked_in_its_strings(content_type):
    source = json.dumps(LIST_PICKER, indent=2)
    answer = process(source, content_type)
    assert answer["status"] == "PROCESSED"
    assert answer["result"]["processedChatContent"]["contentType"] == content_type
    output = json.loads(content_of(answer))
    assert shape(output) == shape(LIST_PICKER)
    assert output["data"]["content"]["subtitle"] == "Card on file [CREDIT_DEBIT_NUMBER]"
    assert "4111" not in content_of(answer)
    assert output["data"]["content"]["elements"][1] == LIST_PICKER["data"]["content"]["elements"][1]
    # Everything outside the changed values is byte for byte the same (indentation, key order).
    assert content_of(answer).splitlines()[:3] == source.splitlines()[:3]


def test_clean_json_is_approved_byte_for_byte():
    source = '{ "a" : 1.50, "b": "\\u00e9t\\u00e9", "c": [true, null] }'
    answer = process(source)
    assert answer["status"] == "APPROVED" and content_of(answer) == source


def test_pii_in_a_key_or_a_number_cannot_be_masked_so_it_is_rejected():
    assert process(json.dumps({CARD: "x"}))["status"] == "REJECTED"
    assert process('{"card": 4111111111111111}')["status"] == "REJECTED"


def test_a_key_gives_context_to_its_value():
    answer = process(json.dumps({"pin": "1234"}))
    assert answer["status"] == "PROCESSED"
    assert json.loads(content_of(answer)) == {"pin": "[PIN]"}
    assert process(json.dumps({"room": "1234"}))["status"] == "APPROVED"


@pytest.mark.parametrize(
    "broken",
    [
        "{",
        '{"a": NaN}',
        '{"a": Infinity}',
        "[1,]",
        "{'a': 1}",
        "[" * 5000 + "]" * 5000,
        '{"card": "4111 1111 1111 1111"',
    ],
)
def test_not_strict_json_is_never_approved_with_pii(broken):
    answer = process(broken)
    assert answer["status"] in ("APPROVED", "REJECTED")
    if "4111" in broken:
        assert answer["status"] == "REJECTED"
    else:
        assert content_of(answer) == broken


def test_lone_surrogate_escapes_stay_escaped():
    source = '{"a": "\\ud800 card 4111 1111 1111 1111"}'
    answer = process(source)
    assert answer["status"] == "PROCESSED"
    content_of(answer).encode("utf-8")
    assert json.loads(content_of(answer)) == {"a": "\ud800 card [CREDIT_DEBIT_NUMBER]"}


# -- generated documents

TEXTS = st.one_of(
    st.sampled_from(
        [
            "hello",
            "card",
            "my card number",
            "Pay now",
            "",
            "order 42",
            "pin",
            CARD,
            "4111111111111111",
            "jane.doe@example.com",
            "ssn 078-05-1120",
            "DE89 3704 0044 0532 0130 00",
            "exp 12/29",
            "4111 1111",
        ]
    ),
    st.text(max_size=20),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False), TEXTS
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["title", "subtitle", "k", "card", "a b"]), inner, max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS, st.sampled_from([None, 2]))
@example(LIST_PICKER, 2)
@example({"a": ["4111 1111", "1111 1111"]}, None)
def test_redacted_json_always_parses_and_keeps_its_keys_and_shape(document, indent):
    source = json.dumps(document, indent=indent, ensure_ascii=bool(indent))
    answer = process(source)
    output = content_of(answer)
    if answer["status"] == "APPROVED":
        assert output == source
    elif answer["status"] == "PROCESSED":
        assert shape(json.loads(output)) == shape(document)
    else:
        assert answer["result"]["processedChatContent"]["contentType"] == "text/plain"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=100))
def test_any_content_is_answered(text):
    answer = process(text)
    assert answer["status"] in ("APPROVED", "REJECTED", "PROCESSED")
    projection = json_values.project(text)
    if projection.exact:
        json.loads(text)
