"""Several cards in one message: each is masked, and the work grows linearly with how many there are.

Two valid cards typed back to back ("4111 1111 1111 1111 5500 0000 0000 0004") form one digit run in one grouping,
which the card detector used to read as one longer number (a tracking id) and leave visible. And each card in a run
widened over the whole rest of the run, so a message of many cards cost work quadratic in their number (a newline
counted as part of the number too: `$` matches before one). Work is counted (windows examined, widening steps),
never timed.
"""

from __future__ import annotations

import re

import pytest

from chalicelib.redaction import checksums, widening
from chalicelib.redaction.redactor import Redactor
from chalicelib.settings import DEFAULT_PII_ENTITY_TYPES

TYPES = frozenset(DEFAULT_PII_ENTITY_TYPES.split(","))
VISA, MASTERCARD = "4111 1111 1111 1111", "5500 0000 0000 0004"


def redact(text: str, card_context: bool = False) -> str:
    redactor = Redactor(TYPES) if card_context else Redactor(TYPES, card_context=None)
    return redactor.redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        f"{VISA} {MASTERCARD}",
        f"my cards: {VISA} {MASTERCARD}",
        f"{VISA}-{MASTERCARD}".replace(" ", "-"),
        "4111111111111111 5500000000000004",
        f"3782 822463 10005 {VISA}",  # Amex's 4-6-5 then a Visa
        f"{VISA} {MASTERCARD} {VISA}",
    ],
)
def test_cards_back_to_back_are_masked(text):
    for card_context in (False, True):
        masked = redact(text, card_context)
        assert not re.search(r"\d", masked), masked


@pytest.mark.parametrize(
    "text",
    [
        "tracking 1234 5678 9012 3456 7890 1234",  # 24 digits in fours: no tiling by two cards
        "USPS 7008 6938 9751 6416 7656 86",
        "1234 5678 9012 3456 7890 1234 5678 9012",  # 32 digits, neither half a card
    ],
)
def test_a_long_number_in_one_grouping_is_not_cut_into_cards(text):
    assert redact(text) == text


def test_a_number_on_the_line_above_is_not_joined_by_widening():
    spans = Redactor(TYPES, card_context=None).analyze(f"order 2024\ncard {VISA}").spans
    assert [s.start for s in spans] == [len("order 2024\ncard ")]


class Counting:
    """A compiled pattern that counts its calls."""

    def __init__(self, pattern: re.Pattern[str], counter: list[int]):
        self._pattern = pattern
        self._counter = counter

    def __getattr__(self, name):
        method = getattr(self._pattern, name)

        def counted(*args, **kwargs):
            self._counter[0] += 1
            return method(*args, **kwargs)

        return counted


def work(monkeypatch, text: str) -> tuple[int, int]:
    """(card windows Luhn-checked, widening steps) for redacting `text`."""
    windows, steps = [0], [0]
    luhn = checksums.luhn_ok

    def counted_luhn(digits: str) -> bool:
        windows[0] += 1
        return luhn(digits)

    monkeypatch.setattr(checksums, "luhn_ok", counted_luhn)
    monkeypatch.setattr(widening, "_CONTINUES", {k: Counting(p, steps) for k, p in widening._CONTINUES.items()})
    monkeypatch.setattr(widening, "_ENDS", {k: Counting(p, steps) for k, p in widening._ENDS.items()})
    masked = Redactor(TYPES).redact(text).text
    assert not re.search(r"\d", masked)
    monkeypatch.undo()
    return windows[0], steps[0]


@pytest.mark.parametrize("separator", [" ", "\n", ", ", "   "])
@pytest.mark.parametrize("prefix", ["", "card "])
def test_work_grows_linearly_with_the_number_of_cards(monkeypatch, separator, prefix):
    def message(count: int) -> str:
        return prefix + separator.join((VISA, MASTERCARD)[i % 2] for i in range(count))

    small, large = work(monkeypatch, message(100)), work(monkeypatch, message(400))
    for few, many in zip(small, large):
        assert few > 0 and many <= 4.4 * few, (small, large)  # 4x the cards: 4x the work (+10 %), not 16x


def test_an_unknown_issuers_number_is_a_card_alone_not_beside_other_numbers():
    """The rule for a number with no card word and no known issuer: the whole message, or nothing (it used to
    apply to every message with more than one number)."""
    unknown = "9999 9999 9999 9995"  # Luhn-valid, no issuer's range
    assert redact(unknown) == "[CREDIT_DEBIT_NUMBER]"
    assert redact(f"room 12, {unknown}") == f"room 12, {unknown}"
    assert redact(f"card {unknown}, room 12") == "card [CREDIT_DEBIT_NUMBER], room 12"
