"""UTF-16 lengths, as Connect's and Messenger's text limits count them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.messaging.text_units import utf16_prefix, utf16_units


def test_characters_outside_the_bmp_count_twice():
    assert utf16_units("abc") == 3
    assert utf16_units("a😀") == 3
    assert utf16_units("\ud800") == 1  # a lone surrogate (JSON allows one) is counted, not a crash


def test_a_prefix_never_splits_a_pair():
    assert utf16_prefix("ab😀c", 3) == "ab"
    assert utf16_prefix("ab😀c", 4) == "ab😀"
    assert utf16_prefix("short", 100) == "short"


@settings(max_examples=60)
@given(st.text(), st.integers(min_value=0, max_value=40))
def test_the_prefix_is_the_longest_that_fits(text, limit):
    prefix = utf16_prefix(text, limit)
    assert text.startswith(prefix) and utf16_units(prefix) <= limit
    assert prefix == text or utf16_units(text[: len(prefix) + 1]) > limit
