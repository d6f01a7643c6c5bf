"""Issue 17: the markdown flattener was quadratic on unclosed `**`, `[a](b`, `<http://` or `*` (1-4 s at
16 KB, and 12 s on a loaded machine): each opener's lazy group ran to the end of the text before failing.

No clock here: the patterns' shape is what makes the cost linear, so the shape is what is checked. No
repeated part may cross its own closing delimiter (`.+?`, `.*?`, `\\S+?` are banned), and the flattener's
output on the worst families is what a reader expects.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.messaging import rendering

_UNBOUNDED_LAZY = re.compile(r"(?<!\\)(?:\.|\\S|\\s)[+*]\?")


def inline_patterns() -> dict[str, re.Pattern[str]]:
    return {
        name: value
        for name, value in vars(rendering).items()
        if name.startswith("_") and name.isupper() and isinstance(value, re.Pattern)
    }


def test_no_pattern_has_a_lazy_group_that_can_run_past_its_delimiter():
    patterns = inline_patterns()
    assert len(patterns) >= 10
    offenders = {name: p.pattern for name, p in patterns.items() if _UNBOUNDED_LAZY.search(p.pattern)}
    assert not offenders


def test_no_pattern_matches_across_lines_unless_it_is_meant_to():
    for name, pattern in inline_patterns().items():
        assert not pattern.flags & re.DOTALL, name


@pytest.mark.parametrize(
    "unit", ["**a ", "__a ", "[a](b", "![a](b", "<http://a", "*a ", "_a ", "~~a ", "`a", "[[[", "# a #"]
)
def test_the_worst_families_come_back_unchanged(unit):
    text = unit * (16 * 1024 // len(unit))
    flattened = rendering.markdown_to_text(text)
    assert len(flattened) <= len(text) + 16  # nothing closes, so (almost) nothing changes


@given(st.text(alphabet="*_[]()<>`~#!: ab\n", max_size=300))
@settings(max_examples=300)
def test_flattening_never_grows_text_more_than_link_addresses(text):
    assert len(rendering.markdown_to_text(text)) <= 2 * len(text) + 8


def test_readable_markdown_still_flattens():
    text = "# Title #\n**bold** and *it* and ~~gone~~ and [the guide](https://x.example/a) <https://y.example>"
    assert rendering.markdown_to_text(text) == (
        "Title\nbold and it and gone and the guide (https://x.example/a) https://y.example"
    )
