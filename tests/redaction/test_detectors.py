"""Each local detector: values it must find (exact span) and look-alikes it must leave alone."""

from __future__ import annotations

import datetime
import re

import pytest

from chalicelib.redaction import checksums
from chalicelib.redaction.detectors import Detector, DetectorSet, all_detectors
from chalicelib.redaction.languages import LANGUAGES

ALL = DetectorSet()
YEAR = datetime.date.today().year


def found(text: str, kind: str) -> list[str]:
    return [text[d.start : d.end] for d in ALL.detect(text) if d.entity_type == kind]


VALID = [
    # cards: every major issuer range and grouping, with and without separators
    ("CREDIT_DEBIT_NUMBER", "4111111111111111"),
    ("CREDIT_DEBIT_NUMBER", "4111 1111 1111 1111"),
    ("CREDIT_DEBIT_NUMBER", "4111-1111-1111-1111"),
    ("CREDIT_DEBIT_NUMBER", "4111.1111.1111.1111"),
    ("CREDIT_DEBIT_NUMBER", "5555 5555 5555 4444"),
    ("CREDIT_DEBIT_NUMBER", "2223003122003222"),  # Mastercard 2-series
    ("CREDIT_DEBIT_NUMBER", "3782 822463 10005"),  # Amex 4-6-5
    ("CREDIT_DEBIT_NUMBER", "3056 930902 5904"),  # Diners 4-6-4
    ("CREDIT_DEBIT_NUMBER", "6011111111111117"),  # Discover
    ("CREDIT_DEBIT_NUMBER", "3530111333300000"),  # JCB
    ("CREDIT_DEBIT_NUMBER", "6205500000000000004"),  # UnionPay, 19 digits
    ("CREDIT_DEBIT_NUMBER", "6759649826438453"),  # Maestro
    ("SSN", "460-89-9847"),
    ("SSN", "773-12-3456"),  # area 773+ is valid since the 2011 randomisation
    ("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "912-70-1234"),
    ("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "DE89 3704 0044 0532 0130 00"),
    ("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "GB82 WEST 1234 5698 7654 32"),
    ("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "gb82west12345698765432"),
    ("UK_NATIONAL_INSURANCE_NUMBER", "AB 12 34 56 C"),
    ("UK_NATIONAL_INSURANCE_NUMBER", "AB123456C"),
    ("EMAIL", "jane.doe+chat@example.co.uk"),
    ("PHONE", "+1-984-182-0190"),
    ("PHONE", "+44 20 7946 0958"),
    ("IP_ADDRESS", "10.0.0.1"),
    ("IP_ADDRESS", "2001:db8::1"),
    ("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
]


@pytest.mark.parametrize("kind, value", VALID)
def test_finds_valid_values_with_exact_span(kind, value):
    assert found(f"here you go: {value} thanks", kind) == [value]


# Values that need a context word: found with it, ignored without it.
CONTEXTUAL = [
    ("CREDIT_DEBIT_NUMBER", "card {}", "4222222222222"),  # 13-digit Visa
    ("CREDIT_DEBIT_NUMBER", "card number {}", "501864667909"),  # 12-digit Maestro
    ("SSN", "my ssn is {}", "460899847"),
    ("SSN", "social security number {}", "460 89 9847"),
    ("BANK_ROUTING", "routing number {}", "021000021"),
    ("BANK_ACCOUNT_NUMBER", "account number {}", "12345678901"),
    ("CA_SOCIAL_INSURANCE_NUMBER", "my SIN is {}", "130 692 544"),
    ("UK_NATIONAL_HEALTH_SERVICE_NUMBER", "NHS number {}", "943 476 5919"),
    ("SWIFT_CODE", "swift code {}", "DEUTDEFF"),
    ("SWIFT_CODE", "BIC: {}", "DEUTDEFF500"),
    ("PHONE", "call me on {}", "467 3395"),
    ("AWS_SECRET_KEY", "aws secret {}", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("CREDIT_DEBIT_EXPIRY", "exp {}", f"12/{(YEAR + 2) % 100:02d}"),
    ("CREDIT_DEBIT_EXPIRY", "card expires {}", f"03/{YEAR + 3}"),  # "expires" alone: see test_languages.py
    ("CREDIT_DEBIT_EXPIRY", "valid thru {}", f"Jan {YEAR + 1}"),
]


@pytest.mark.parametrize("kind, template, value", CONTEXTUAL)
def test_contextual_values_need_their_context_word(kind, template, value):
    assert found(template.format(value), kind) == [value]
    assert found(f"ref {value} ok", kind) == []


# Keyword-anchored types: the value after (or before) the keyword.
KEYWORDED = [
    ("PIN", "my pin is 4821", "4821"),
    ("PIN", "PIN: 123456", "123456"),
    ("PIN", "pin number is 0000", "0000"),
    ("PIN", "4821 is my pin", "4821"),
    ("CREDIT_DEBIT_CVV", "cvv 123", "123"),
    ("CREDIT_DEBIT_CVV", "security code: 4321", "4321"),
    ("CREDIT_DEBIT_CVV", "the code on the back is 987", "987"),
    ("CREDIT_DEBIT_CVV", "123 is the cvv", "123"),
    ("PASSWORD", "password: hunter22", "hunter22"),
    ("PASSWORD", "my password is S3cr3t!", "S3cr3t!"),
    ("PASSPORT_NUMBER", "passport number X12345678", "X12345678"),
    ("PASSPORT_NUMBER", "my passport is 123456789", "123456789"),
    ("DRIVER_ID", "driver's license number is F162823540116", "F162823540116"),
    ("DRIVER_ID", "DL# D1234567", "D1234567"),
]


@pytest.mark.parametrize("kind, text, value", KEYWORDED)
def test_keyword_anchored_values(kind, text, value):
    assert found(text, kind) == [value]


# Look-alikes: right shape, failing checksum or rule. They must pass through untouched.
INVALID = [
    ("CREDIT_DEBIT_NUMBER", "card 4111111111111112"),  # Luhn fails
    ("CREDIT_DEBIT_NUMBER", "card 1234 5678 1234 5678"),
    ("CREDIT_DEBIT_NUMBER", "0000 0000 0000 0000"),  # passes Luhn, no issuer, no context
    ("CREDIT_DEBIT_NUMBER", "order 630427373398"),  # 12 digits without a card word
    ("CREDIT_DEBIT_NUMBER", "USPS 7008 6938 9751 6416 7656 86"),  # a longer number in the same grouping
    ("SSN", "000-12-3456"),
    ("SSN", "666-12-3456"),
    ("SSN", "912-34-5678"),
    ("SSN", "123-00-4567"),
    ("SSN", "123-45-0000"),
    ("SSN", "078-05-1120"),  # the Woolworth wallet SSN
    ("SSN", "219-09-9999"),
    ("SSN", "123-45 6789"),  # inconsistent separators
    ("SSN", "my order 460899847"),  # bare 9 digits without context
    ("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "912-69-1234"),  # group 69 is not issued
    ("BANK_ROUTING", "routing 011000016"),  # checksum fails
    ("BANK_ROUTING", "routing 991000013"),  # no Federal Reserve prefix 99
    ("BANK_ACCOUNT_NUMBER", "order 12345678901"),
    ("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "DE89 3704 0044 0532 0130 01"),  # mod 97 fails
    ("INTERNATIONAL_BANK_ACCOUNT_NUMBER", "GB82 WEST 1234 5698 7654 3"),  # wrong length for GB
    ("UK_NATIONAL_INSURANCE_NUMBER", "QQ 12 34 56 A"),  # HMRC's example: Q is never a first letter
    ("UK_NATIONAL_INSURANCE_NUMBER", "BG 12 34 56 A"),  # unallocated prefix
    ("UK_NATIONAL_INSURANCE_NUMBER", "AB 12 34 56 E"),  # suffix must be A-D
    ("CA_SOCIAL_INSURANCE_NUMBER", "SIN 046 454 286"),  # AWS's example: starts with 0, never issued
    ("CA_SOCIAL_INSURANCE_NUMBER", "SIN 130 692 545"),  # Luhn fails
    ("UK_NATIONAL_HEALTH_SERVICE_NUMBER", "NHS 485 777 3456"),  # AWS's example fails mod 11
    ("SWIFT_CODE", "swift ABCDXX12"),  # XX is not a country
    ("SWIFT_CODE", "DEUTDEFF"),  # no context: an 8-letter word
    ("EMAIL", "jane@localhost"),
    ("PHONE", "order 12345"),
    ("PHONE", "shipped 2024-05-12"),
    ("IP_ADDRESS", "999.1.1.1"),
    ("IP_ADDRESS", "version 1.2.3"),
    ("AWS_ACCESS_KEY", "AKIA1234"),
    ("AWS_SECRET_KEY", "commit 356a192b7913b04c54574d18c28d46e6395428ab"),  # hex, and no context
    ("CREDIT_DEBIT_EXPIRY", "delivered 12/28"),  # a date without an expiry word
    ("CREDIT_DEBIT_EXPIRY", "exp 13/28"),
    ("CREDIT_DEBIT_EXPIRY", "exp 12/1999"),
    ("PIN", "pin the tweet please"),
    ("PIN", "my pin is abc"),
    ("CREDIT_DEBIT_CVV", "I have 123 apples"),
    ("PASSWORD", "I forgot my password"),
    ("PASSPORT_NUMBER", "where is the passport office"),
]


@pytest.mark.parametrize("kind, text", INVALID)
def test_look_alikes_pass_through(kind, text):
    assert found(text, kind) == []


def test_a_phone_never_starts_inside_a_slashed_number():
    # "28 555 123 4567" was a phone: its mask left "12/" of the date visible, half a number.
    assert found("ref 12/28 555 123 4567", "PHONE") == ["555 123 4567"]
    assert found("one 4111 12/28 12/28 1 4111 4111", "PHONE") == ["1 4111 4111"]


def test_card_followed_by_expiry_and_cvv_in_one_run():
    text = f"4111 1111 1111 1111 12/{(YEAR + 2) % 100} 123"
    assert found(text, "CREDIT_DEBIT_NUMBER") == ["4111 1111 1111 1111"]


def test_every_detector_emits_a_comprehend_type_name():
    from chalicelib.settings import COMPREHEND_PII_TYPES

    assert {d.entity_type for d in all_detectors()} <= COMPREHEND_PII_TYPES


def test_detector_set_runs_only_the_requested_types():
    only_ssn = DetectorSet.for_types({"SSN"})
    detections = only_ssn.detect("card 4111111111111111 ssn 460-89-9847")
    assert [d.entity_type for d in detections] == ["SSN"]


@pytest.mark.parametrize(
    "digits, expected",
    [
        ("4111111111111111", True),
        ("2221000000000009", True),
        ("2720999999999996", True),
        ("6205500000000000004", True),
        ("378282246310005", True),
        ("1234567812345670", False),
        ("4111111111111", True),
        ("41111111111111", False),  # Visa issues 13, 16 and 19 digits only
    ],
)
def test_issuer_table(digits, expected):
    assert checksums.known_issuer(digits) is expected


def test_luhn_matches_python_stdnum():
    from stdnum import luhn

    for number in ("4111111111111111", "4111111111111112", "79927398713", "0", "18", "2223003122003222"):
        assert checksums.luhn_ok(number) == luhn.is_valid(number)


def test_iban_check_gives_python_stdnum_verdict():
    """iban_ok reads each country's format from stdnum's registry once; its verdict must stay stdnum's."""
    import random
    import string
    from importlib.resources import files

    from stdnum import iban

    registry = files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8").splitlines()
    countries = sorted({line[:2] for line in registry if line[:2].isalpha() and line[:2].isupper()}) + ["XX", "gb", "D"]
    rng = random.Random(97)
    valid = 0
    for _ in range(3000):
        country = rng.choice(countries)
        alphabet = string.digits + rng.choice(("", string.ascii_uppercase, "abc٤"))
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        if rng.random() < 0.7:  # right check digits: the format check decides
            try:
                body = iban.calc_check_digits(country.upper() + "00" + body) + body
            except Exception:
                pass
        number = country + body
        expected = iban.is_valid(number, check_country=False)
        valid += expected
        assert checksums.iban_ok(number) is expected, number
    assert valid > 10  # the vectors reach the format check, not only the checksum


def test_expiry_year_window():
    today = datetime.date(2026, 6, 1)
    assert checksums.expiry_year_ok(25, today) and checksums.expiry_year_ok(2036, today)
    assert not checksums.expiry_year_ok(24, today) and not checksums.expiry_year_ok(2037, today)


def _finds_called(detectors: DetectorSet, text: str) -> list[str]:
    """The entity types whose detector searched `text` (a work count: which detectors ran at all)."""
    called: list[str] = []
    for detector in detectors.detectors:
        find = detector.find

        def counted(text, lowered, runs, find=find, kind=detector.entity_type):
            called.append(kind)
            return find(text, lowered, runs)

        object.__setattr__(detector, "find", counted)
    try:
        detectors.detect(text)
    finally:
        for detector in detectors.detectors:
            object.__delattr__(detector, "find")
    return called


def test_claimed_digits_are_read_once():
    """IBANs, then cards, claim their digits: no other detector reads a card's 16 digits (an SSN, ITIN, SIN or
    routing number needs digits of its own), and an IBAN's card-shaped windows are not read as a card."""
    detectors = DetectorSet(all_detectors("en"))
    assert _finds_called(detectors, "my card is 4111 1111 1111 1111") == [
        "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
        "CREDIT_DEBIT_NUMBER",
    ]  # (not even the CVV detector, which the word "card" would wake: no digits are left for it)
    iban = detectors.detect("IBAN: RS35 2600 0560 1001 6113 79")
    assert [d.entity_type for d in iban] == ["INTERNATIONAL_BANK_ACCOUNT_NUMBER"]
    # The SSN detectors still read digits beside a card.
    found = detectors.detect("card 4111 1111 1111 1111 ssn 536-90-1234")
    assert {"CREDIT_DEBIT_NUMBER", "SSN"} <= {d.entity_type for d in found}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_hint_is_one_token(language):
    """Hints are searched as single tokens (hints.py): a hint with a space would be found with the text's spacing,
    never as written, and its detector would silently never run."""
    for detector in all_detectors(language):
        for hint in detector.hints:
            assert not any(ch.isspace() for ch in hint), (detector.entity_type, hint)


def test_an_upper_case_hint_still_lets_its_detector_run():
    text = "my code is 1234"
    lower = Detector("PIN", (re.compile(r"[0-9]{4}"),), min_digits=4, hints=("code",))
    upper = Detector("PIN", (re.compile(r"[0-9]{4}"),), min_digits=4, hints=("CODE",))
    assert DetectorSet((upper,)).detect(text) == DetectorSet((lower,)).detect(text) != []
