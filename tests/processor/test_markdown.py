"""text/markdown: masks never land on syntax, and the document keeps its structure (checked by an independent
CommonMark parser, markdown-it-py, on generated documents)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from chalicelib.processor import markdown
from tests.processor.helpers import CARD, content_of, event, processor

_md = MarkdownIt("commonmark")
PROCESSOR = processor()


def process(text: str) -> dict:
    return PROCESSOR.process(event(text, "text/markdown"))


def structure(text: str) -> list[tuple]:
    """Block and inline token types, nesting and markup; text and code contents left out."""
    shape: list[tuple] = []
    for token in _md.parse(text):
        if token.type != "inline":
            shape.append((token.type, token.tag, token.nesting, token.markup))
            continue
        previous = None
        for child in token.children or []:
            if child.type in ("text", "text_special"):
                kind: tuple = ("text",)
            else:
                kind = (child.type, child.tag, child.nesting, child.markup)
            if kind[0] == "text" and previous == "text":
                continue  # escapes split text into several tokens: one run of text is one run
            shape.append(kind)
            previous = kind[0]
    return shape


@pytest.mark.parametrize(
    "source, expected",
    [
        (f"**my card** {CARD}", "**my card** \\[CREDIT\\_DEBIT\\_NUMBER\\]"),
        (f"card **{CARD}** ok", "card **\\[CREDIT\\_DEBIT\\_NUMBER\\]** ok"),
        (
            "card 4111 **1111** 1111 1111",
            "card \\[CREDIT\\_DEBIT\\_NUMBER\\] **\\[CREDIT\\_DEBIT\\_NUMBER\\]** \\[CREDIT\\_DEBIT\\_NUMBER\\]",
        ),
        (f"[card {CARD}](https://example.com/help)", "[card \\[CREDIT\\_DEBIT\\_NUMBER\\]](https://example.com/help)"),
        (f"- item one\n- card {CARD}\n", "- item one\n- card \\[CREDIT\\_DEBIT\\_NUMBER\\]\n"),
        (f"1. first\n2. card {CARD}", "1. first\n2. card \\[CREDIT\\_DEBIT\\_NUMBER\\]"),
        (f"card `{CARD}`", "card `[CREDIT_DEBIT_NUMBER]`"),
        (f"> card _{CARD}_", "> card _\\[CREDIT\\_DEBIT\\_NUMBER\\]_"),
    ],
)
def test_masks_keep_the_syntax(source, expected):
    answer = process(source)
    assert answer["status"] == "PROCESSED" and content_of(answer) == expected
    assert answer["result"]["processedChatContent"]["contentType"] == "text/markdown"
    assert structure(content_of(answer)) == structure(source)


def test_list_numbers_and_link_syntax_are_never_read_as_digits():
    text = "1. see [the guide](https://example.com/a)\n2. done\n10. ok"
    assert process(text)["status"] == "APPROVED"


def test_phone_in_parentheses_is_text_not_syntax():
    projection = markdown.project("call (555) 123-4567")
    assert projection.text == "call (555) 123-4567"


def test_escaped_mask_renders_as_the_mask():
    html = _md.render(markdown.escape("[CREDIT_DEBIT_NUMBER]"))
    assert "<p>[CREDIT_DEBIT_NUMBER]</p>" in html


# -- generated documents

WORDS = st.sampled_from(["hello", "my", "card", "number", "is", "the", "order", "please", "thanks", "pin", "ssn"])
PII = st.sampled_from(
    [
        CARD,
        "4111111111111111",
        "5500 0055 5555 5559",
        "078-05-1120",
        "jane.doe@example.com",
        "DE89 3704 0044 0532 0130 00",
        "4111 1111",
        "1111 1111",
        "123",
    ]
)
ATOM = st.one_of(WORDS, WORDS, PII)


def phrase(min_size: int = 1) -> st.SearchStrategy[str]:
    return st.lists(ATOM, min_size=min_size, max_size=6).map(" ".join)


INLINE = st.one_of(
    phrase(),
    phrase().map(lambda p: f"**{p}**"),
    phrase().map(lambda p: f"*{p}*"),
    phrase().map(lambda p: f"_{p}_"),
    phrase().map(lambda p: f"~~{p}~~"),
    phrase().map(lambda p: f"`{p}`"),
    st.tuples(phrase(), st.sampled_from(["https://example.com/help", "https://example.com/o?id=42"])).map(
        lambda t: f"[{t[0]}]({t[1]})"
    ),
)
LINE = st.tuples(
    st.sampled_from(["", "", "- ", "* ", "1. ", "2) ", "# ", "## ", "> "]),
    st.lists(INLINE, min_size=1, max_size=4).map(" ".join),
).map("".join)
DOCUMENT = st.lists(LINE, min_size=1, max_size=5).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(DOCUMENT)
@example(f"**{CARD}**")
@example(f"[{CARD}](https://example.com/help) `{CARD}`")
def test_redacted_markdown_keeps_its_structure(document):
    answer = process(document)
    assert answer["status"] in ("APPROVED", "PROCESSED")
    output = content_of(answer)
    if answer["status"] == "APPROVED":
        assert output == document
        return
    assert structure(output) == structure(document)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200))
def test_any_text_projects_to_the_same_length_and_renders(text):
    projection = markdown.project(text)
    assert len(projection.text) == len(text)
    answer = process(text)
    assert answer["status"] in ("APPROVED", "PROCESSED")
