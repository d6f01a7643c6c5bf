"""Markdown flattening, interactive templates and splitting: what the customer reads on Messenger."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.messaging import rendering
from chalicelib.messaging.rendering import Rendered, markdown_to_text, render_interactive, split_for_messenger
from chalicelib.messaging.text_units import utf16_units


def test_markdown_emphasis_links_lists_and_headings_read_as_plain_text():
    markdown = (
        "# Your order\n\n"
        "**Good news**, your parcel is *on its way*.\n"
        "- track it [here](https://example.com/t/1)\n"
        "- or call `support`\n"
        "1. first\n"
        "> quoted\n"
        "~~old~~ price: 5\\*2"
    )
    text = markdown_to_text(markdown)
    assert text == (
        "Your order\n\n"
        "Good news, your parcel is on its way.\n"
        "• track it here (https://example.com/t/1)\n"
        "• or call support\n"
        "1. first\n"
        "quoted\n"
        "old price: 5*2"
    )


def test_markdown_keeps_snake_case_and_arithmetic_untouched():
    assert markdown_to_text("use my_var_name and 2 * 3 * 4") == "use my_var_name and 2 * 3 * 4"


def test_markdown_link_whose_label_is_the_url_is_not_doubled():
    assert (
        markdown_to_text("[https://a.example](https://a.example) <https://b.example>")
        == "https://a.example https://b.example"
    )


def _template(kind, content):
    return json.dumps({"templateType": kind, "version": "1.0", "data": {"content": content}})


def _rendered(content: str) -> Rendered:
    """render_interactive for content that must render."""
    rendered = render_interactive(content)
    assert rendered is not None
    return rendered


def test_list_picker_with_short_titles_becomes_quick_replies():
    rendered = _rendered(
        _template(
            "ListPicker",
            {
                "title": "What produce would you like to buy?",
                "subtitle": "Tap to select option",
                "elements": [{"title": "Apple"}, {"title": "Orange"}, {"title": "Banana"}],
            },
        )
    )
    assert rendered.text == "What produce would you like to buy?\nTap to select option"
    assert [(r.title, r.payload) for r in rendered.quick_replies] == [
        ("Apple", "Apple"),
        ("Orange", "Orange"),
        ("Banana", "Banana"),
    ]


def test_quick_reply_template_too_many_or_too_long_falls_back_to_a_numbered_list():
    long_titles = _rendered(
        _template(
            "QuickReply",
            {
                "title": "How was your experience?",
                "elements": [{"title": "Very unsatisfied with everything"}, {"title": "Fine"}],
            },
        )
    )
    assert long_titles.quick_replies == ()
    assert (
        long_titles.text
        == "How was your experience?\n1. Very unsatisfied with everything\n2. Fine\nReply with your choice."
    )

    many = _rendered(_template("Panel", {"title": "Pick", "elements": [{"title": f"o{i}"} for i in range(14)]}))
    assert many.quick_replies == () and "14. o13" in many.text


def test_subtitles_are_shown_in_the_text_while_quick_replies_carry_the_bare_title():
    rendered = _rendered(
        _template("ListPicker", {"title": "Fruit", "elements": [{"title": "Apple", "subtitle": "$1.00"}]})
    )
    assert rendered.text == "Fruit\n• Apple — $1.00"
    assert [r.title for r in rendered.quick_replies] == ["Apple"]
    numbered = _rendered(
        _template(
            "ListPicker",
            {"title": "Fruit", "elements": [{"title": "A very long fruit name indeed", "subtitle": "$1.00"}]},
        )
    )
    assert numbered.text == "Fruit\n1. A very long fruit name indeed — $1.00\nReply with your choice."


def test_time_picker_lists_slots_in_the_templates_time_zone():
    rendered = _rendered(
        _template(
            "TimePicker",
            {
                "title": "Schedule appointment",
                "timeZoneOffset": 60,
                "timeslots": [{"date": "2026-10-31T18:00+00:00", "duration": 60}, {"date": "not a date"}],
            },
        )
    )
    assert rendered.quick_replies == ()  # "Sat 31 Oct 19:00 (60 min)" is longer than 20 characters
    assert "1. Sat 31 Oct 19:00 (60 min)" in rendered.text


def test_a_carousel_is_a_generic_template_with_the_choices_of_every_panel():
    rendered = _rendered(
        json.dumps(
            {
                "templateType": "Carousel",
                "version": "1.0",
                "data": {
                    "content": {
                        "title": "Rooms",
                        "elements": [
                            {
                                "templateType": "Panel",
                                "data": {"content": {"title": "Room A", "elements": [{"title": "Book A"}]}},
                            },
                            {
                                "templateType": "Panel",
                                "data": {"content": {"title": "Room B", "elements": [{"title": "Book B"}]}},
                            },
                        ],
                    }
                },
            }
        )
    )
    assert rendered.text == "Rooms"
    assert rendered.template is not None
    elements = rendered.template["payload"]["elements"]
    assert rendered.template["payload"]["template_type"] == "generic"
    assert [(e["title"], [b["title"] for b in e["buttons"]]) for e in elements] == [
        ("Room A", ["Book A"]),
        ("Room B", ["Book B"]),
    ]


def test_rich_text_titles_are_flattened_and_a_viewresource_is_not_rendered():
    rich = {
        "templateType": "ListPicker",
        "data": {
            "content": {
                "title": "How can we help? [aws.amazon.com](https://aws.amazon.com)<!--rehype:target=_self-->",
                "elements": [{"title": "**Talk** to us"}],
            }
        },
    }
    rendered = _rendered(json.dumps(rich))
    assert rendered.text.startswith("How can we help? aws.amazon.com (https://aws.amazon.com)")
    assert [r.title for r in rendered.quick_replies] == ["Talk to us"]
    view = {"templateType": "ViewResource", "data": {"content": {"viewId": "detail", "viewToken": "t"}}}
    assert render_interactive(json.dumps(view)) is None


def test_a_list_too_long_for_quick_replies_is_numbered_and_remembers_its_options():
    picker = {
        "templateType": "QuickReply",
        "data": {
            "content": {"title": "Pick", "elements": [{"title": "Lorem ipsum dolor sit amet"}, {"title": "Ipsum"}]}
        },
    }
    rendered = _rendered(json.dumps(picker))
    assert "1. Lorem ipsum dolor sit amet" in rendered.text and not rendered.quick_replies
    assert rendered.choices == ("Lorem ipsum dolor sit amet", "Ipsum")


def test_unreadable_interactive_content_yields_nothing_never_raw_json():
    for content in (
        None,
        "",
        "not json",
        "[1,2]",
        json.dumps({"templateType": "ListPicker"}),
        json.dumps({"templateType": "X", "data": {"content": {"elements": "nope"}}}),
    ):
        assert render_interactive(content) is None


def test_split_keeps_short_text_whole():
    assert split_for_messenger("  hello  ") == ["hello"]
    assert split_for_messenger("   ") == []


def test_split_prefers_sentence_boundaries_and_keeps_order():
    sentence = "This is a sentence that goes on for a while. "
    text = sentence * 100  # 4500 characters
    parts = split_for_messenger(text)
    assert len(parts) == 3
    assert all(utf16_units(p) <= rendering.MAX_TEXT_UNITS for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text.strip()


def test_split_counts_utf16_units_so_emoji_never_overflow():
    text = "😀" * 1500  # 1500 code points, 3000 UTF-16 units, no spaces at all
    parts = split_for_messenger(text)
    assert "".join(parts) == text
    assert all(utf16_units(p) <= rendering.MAX_TEXT_UNITS for p in parts)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=5000), st.integers(20, 300))
def test_split_never_exceeds_the_limit_and_loses_no_visible_text(text, limit):
    parts = split_for_messenger(text, limit)
    assert all(0 < utf16_units(p) <= limit for p in parts)
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "templateType",
                    "data",
                    "content",
                    "title",
                    "subtitle",
                    "elements",
                    "timeslots",
                    "date",
                    "duration",
                    "timeZoneOffset",
                    "x",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(json_like, st.sampled_from(["ListPicker", "QuickReply", "Panel", "TimePicker", "Carousel", "Other"]))
def test_hostile_templates_never_raise_and_respect_messenger_limits(body, kind):
    content = json.dumps({"templateType": kind, "version": "1.0", "data": body})
    rendered = render_interactive(content)
    if rendered is not None:
        assert content not in rendered.text
        assert all(len(r.title) <= rendering.MAX_QUICK_REPLY_TITLE for r in rendered.quick_replies)
        assert len(rendered.quick_replies) <= rendering.MAX_QUICK_REPLIES


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab *_`[]()#>-~\\\n!<:/.1")), max_size=200))
def test_markdown_flattening_never_raises(markdown):
    assert isinstance(markdown_to_text(markdown), str)
