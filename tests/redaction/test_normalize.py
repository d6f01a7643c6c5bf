"""Normalisation: digits in any form become plain ASCII digits, and every span maps back to what was typed."""

from __future__ import annotations

import re

import pytest

from chalicelib.redaction.normalize import normalize


def numbers(text: str, language: str = "en") -> list[tuple[str, str]]:
    """(normalised digits, original text they came from) for each digit run of the normalised text."""
    result = normalize(text, language)
    out = []
    for match in re.finditer(r"\d+", result.text):
        start, end = result.span(match.start(), match.end())
        out.append((match.group(), text[start:end]))
    return out


def test_plain_ascii_is_the_identity_and_cheap():
    result = normalize("order 12345 arrived")
    assert result.text == "order 12345 arrived"
    assert result.starts is None and result.span(6, 11) == (6, 11)


def test_spelled_digits_become_one_number():
    assert numbers("my pin is one two three four") == [("1234", "one two three four")]


def test_double_triple_and_oh():
    assert numbers("four one one one, double one, triple four oh nine") == [
        ("41111144409", "four one one one, double one, triple four oh nine")
    ]


def test_mixed_words_and_digit_groups_keep_the_groups():
    result = normalize("four one one one 1111 one one one one 1111")
    assert result.text == "4111 1111 1111 1111"
    start, end = result.span(0, len(result.text))
    assert (start, end) == (0, len("four one one one 1111 one one one one 1111"))


def test_full_width_and_other_scripts_digits():
    assert numbers("card ４１１１ １１１１") == [("4111", "４１１１"), ("1111", "１１１１")]
    assert numbers("pin ٤٨٢١") == [("4821", "٤٨٢١")]  # Arabic-Indic
    assert numbers("pin ४८२१") == [("4821", "४८२१")]  # Devanagari


def test_nbsp_and_unicode_spaces_become_spaces():
    assert normalize("4111\u00a01111\u20021111").text == "4111 1111 1111"


def test_look_alike_letters_only_inside_mostly_digit_runs():
    assert normalize("4111 l111 O111 1111").text == "4111 1111 0111 1111"
    assert normalize("I lOve 1l").text == "I lOve 1l"  # words stay words
    assert normalize("IT48O9861526026655094207288").text == "IT48O9861526026655094207288"  # part of an IBAN


@pytest.mark.parametrize(
    "text",
    [
        "no one came",
        "I ordered two and got one",
        "the one I bought",
        "one of them",
        "use this one 4597 0181",
        "two for one",
        "at five o'clock",
    ],
)
def test_ordinary_number_words_stay_text(text):
    assert not re.search(r"\d{3}", normalize(text).text.replace("4597 0181", ""))


def test_lone_number_words_stay_text_whatever_else_the_run_holds():
    # Reading them as digits would hide the issuer prefix of the card fragment behind each ("1 4111 ..."), and
    # the reading would change once a mask takes the spoken number that allowed it.
    assert normalize("one 4111 12/28 one 4111 4111").text == "one 4111 12/28 one 4111 4111"
    assert normalize("four one one one 1111 one 1111").text == "4111 1111 one 1111"


def test_letter_zeros_need_a_number_word_in_their_own_sequence():
    # A number word elsewhere (the "one" of "phone") must not change how "oh oh" reads.
    assert normalize("call 097603 oh oh on my phone").text == "call 097603 oh oh on my phone"
    assert normalize("nine oh oh one").text == "9001"


def test_homophones_count_only_inside_long_runs():
    assert normalize("one for two to three four five six").text == "14223456"
    assert normalize("I want two for me").text == "I want two for me"


def test_spanish_words_when_enabled():
    assert numbers("mi pin es uno dos tres cuatro", "es") == [("1234", "uno dos tres cuatro")]
    assert numbers("mi pin es uno dos tres cuatro", "en") == []


def test_spans_cover_whole_source_characters_with_emoji_before():
    text = "😀🎉 card ４１１１ one one one one"
    result = normalize(text)
    for match in re.finditer(r"\d+", result.text):
        start, end = result.span(match.start(), match.end())
        assert 0 <= start < end <= len(text)
        assert "😀" not in text[start:end]
