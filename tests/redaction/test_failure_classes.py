"""Issue 13's failure classes, one test each: measured on values others published, fixed at the detector's root.

Each class names the rule that fixed it; the values are the kind the real-world corpus holds
(benchmarks/data/realworld/), never a special case of one item.
"""

from __future__ import annotations

import pytest

from chalicelib.redaction import checksums
from chalicelib.redaction.conversation import CardContextPolicy
from chalicelib.redaction.redactor import Redactor
from chalicelib.settings import DEFAULT_PII_ENTITY_TYPES

TYPES = frozenset(DEFAULT_PII_ENTITY_TYPES.split(","))
REDACTOR = Redactor(TYPES, card_context=None)


def masked(text: str, language: str = "en") -> list[tuple[str, str]]:
    return [(d.entity_type, text[d.start : d.end]) for d in REDACTOR.analyze(text, language=language).spans]


def redact(text: str, language: str = "en") -> str:
    return REDACTOR.redact(text, language=language).text


# ---------------------------------------------------------------------------------------------- IBAN

IBAN = "INTERNATIONAL_BANK_ACCOUNT_NUMBER"


@pytest.mark.parametrize(
    "text, value",
    [
        # a short word after the number: the registry length, not a greedy group pattern, says where it ends
        ("AL47 2121 1009 0000 0002 3569 8741 is my IBAN", "AL47 2121 1009 0000 0002 3569 8741"),
        ("DE89 3704 0044 0532 0130 00 is it", "DE89 3704 0044 0532 0130 00"),
        # a space after the country code (BE, NO, ME, ES, TL write it so)
        ("IBAN BE 68 5390 0754 7034 thanks", "BE 68 5390 0754 7034"),
        ("NO 93 8601 1117 947", "NO 93 8601 1117 947"),
        ("ME 25 5403 0000 2379 9201 09", "ME 25 5403 0000 2379 9201 09"),
        # national groupings and separators
        ("ES10 0075 0080 11 0600658108.", "ES10 0075 0080 11 0600658108"),
        ("DE89-3704-0044-0532-0130-00", "DE89-3704-0044-0532-0130-00"),
        ("FR76.3000.6000.0112.3456.7890.189", "FR76.3000.6000.0112.3456.7890.189"),
    ],
)
def test_iban_ends_where_its_country_says(text, value):
    assert masked(text) == [(IBAN, value)]


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # mod 97 fails
        "DE89 3704 0044 0532 0130 0012",  # the number goes on past Germany's 22 characters
        "it 20 dollars and more text here to read",  # words are not a BBAN
        "ES10 0075 0080 11 060065810",  # one short
    ],
)
def test_iban_look_alikes_stay(text):
    assert [kind for kind, _ in masked(text)] in ([], ["PHONE"]) and IBAN not in dict(masked(text))


# ---------------------------------------------------------------------------------------------- cards

CARD = "CREDIT_DEBIT_NUMBER"


@pytest.mark.parametrize("value", ["4007000000027", "4012888818888"])  # Authorize.net's 13-digit Visa test cards
def test_thirteen_digit_visa_without_a_card_word(value):
    assert masked(f"here it is: {value} thanks") == [(CARD, value)]


@pytest.mark.parametrize("value", ["3088000000000017", "3338000000000007"])  # Authorize.net's JCB; a 3338 JCB
def test_jcb_ranges_beyond_3528_3589(value):
    assert checksums.known_issuer(value) and checksums.luhn_ok(value)
    assert masked(f"here it is: {value} thanks") == [(CARD, value)]


@pytest.mark.parametrize(
    "text, value",
    [
        ("card 1000000000000008", "1000000000000008"),  # Braintree's "unknown brand" test number
        ("pay with 1354 1001 4004 955 please", "1354 1001 4004 955"),  # UATP
        ("il numero della mia carta è 1000000000000008", "1000000000000008"),
    ],
)
def test_luhn_valid_number_beside_card_words_whatever_its_issuer(text, value):
    language = "it" if "carta" in text else "en"
    assert masked(text, language) == [(CARD, value)]


def test_luhn_valid_number_alone_is_a_card_but_not_thirteen_digits_of_no_issuer():
    assert masked("1000000000000008") == [(CARD, "1000000000000008")]
    assert masked("1748503543012") == []  # Presidio's own negative case: 13 digits, no issuer issues 13 there


def test_a_number_alone_starting_with_zero_is_no_card_but_a_worded_one_is():
    assert masked("0000 0000 0000 0000") == []  # a placeholder
    assert masked("credit card 060426070011") == [(CARD, "060426070011")]  # legacy Maestro 0604, beside its word


# ---------------------------------------------------------------------------------------------- SSN, ITIN, SIN, routing


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("109.99.6000", "SSN", "109.99.6000"),  # dots
        ("SSN: 109.99.6000", "SSN", "109.99.6000"),
        ("078 05 1123", "SSN", "078 05 1123"),  # bare spaced 3-2-4 groups
        ("my ssn is 078051123", "SSN", "078051123"),  # no separator: needs its word
        ("912-50-3456", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "912-50-3456"),  # group 50-65: stdnum 2.2 says no
        ("912-65-3456", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "912-65-3456"),
        ("my ITIN is 911-701234", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "911-701234"),  # odd grouping, worded
        ("130 692 544", "CA_SOCIAL_INSURANCE_NUMBER", "130 692 544"),  # bare spaced
        ("347-677-452", "CA_SOCIAL_INSURANCE_NUMBER", "347-677-452"),  # bare dashed
        ("0711-0130-7", "BANK_ROUTING", "0711-0130-7"),  # 4-4-1 as printed on a cheque
        ("routing 3222-7162-7", "BANK_ROUTING", "3222-7162-7"),
    ],
)
def test_national_numbers_in_their_written_forms(text, kind, value):
    assert masked(text) == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "078051123",  # bare 9 digits: no word, no SSN
        "912-66-3456",  # ITIN group 66 is not issued (and no SSN starts with 9)
        "912-93-3456",
        "130692544",  # a bare 9-digit SIN needs its word
        "046 454 286",  # SIN never starts with 0
        "1234-0000-0",  # routing checksum fails
        "121000358",  # a bare 9-digit routing number needs its word
        "order 130 692 544",  # a label says what the number is
    ],
)
def test_national_look_alikes_stay(text):
    assert masked(text) == []


def test_itin_groups_follow_the_irs():
    issued = {g for g in range(100) if checksums.itin_ok(f"912{g:02d}3456")}
    assert issued == set(range(50, 66)) | set(range(70, 89)) | set(range(90, 93)) | set(range(94, 100))


# ---------------------------------------------------------------------------------------------- NINO, licence, passport, account


@pytest.mark.parametrize(
    "text, value",
    [
        ("AZ 123 456 A", "AZ 123 456 A"),  # 3-3 grouping
        ("AB123456C", "AB123456C"),
        ("my NI number is QQ 12 34 56 A", "QQ 12 34 56 A"),  # HMRC's example: never allocated, so only with its word
    ],
)
def test_nino_groupings(text, value):
    assert masked(text) == [("UK_NATIONAL_INSURANCE_NUMBER", value)]


def test_unallocated_nino_prefix_needs_its_word():
    assert masked("QQ 12 34 56 A") == []


@pytest.mark.parametrize(
    "text, value",
    [
        ("MORGA753116SM9IJ", "MORGA753116SM9IJ"),
        ("my driving licence is MORGA753116SM91J 01", "MORGA753116SM91J 01"),
        ("licence: MORGA 753116 SM9IJ", "MORGA 753116 SM9IJ"),
    ],
)
def test_uk_driving_licence(text, value):
    assert masked(text) == [("DRIVER_ID", value)]


def test_uk_driving_licence_birth_date_is_checked():
    assert masked("MORGA713116SM9IJ") == []  # month 13


@pytest.mark.parametrize(
    "text, value",
    [
        ("my passport number is L898902C3", "L898902C3"),  # ICAO 9303 specimen
        ("passport no. CD7654321", "CD7654321"),
        ("passeport n° L898902C3", "L898902C3"),
    ],
)
def test_icao_passport_numbers_after_passport(text, value):
    language = "fr" if "passeport" in text else "en"
    assert masked(text, language) == [("PASSPORT_NUMBER", value)]


def test_passport_needs_its_word():
    assert masked("L898902C3") == []


@pytest.mark.parametrize(
    "text, value",
    [
        ("account 000123456789, routing to follow", "000123456789"),
        ("my account number is 945456787654", "945456787654"),
    ],
)
def test_bank_account_after_account(text, value):
    assert masked(text) == [("BANK_ACCOUNT_NUMBER", value)]


# ---------------------------------------------------------------------------------------------- false positives


@pytest.mark.parametrize(
    "text",
    [
        "IMEI 356868000041412",  # Luhn-valid, JCB-looking: the label says it is a phone's
        "the phone's IMEI is 354178036859789",
        "my tracking number is 122816215025810",  # FedEx's test number: Luhn-valid, UATP-looking
        "valid until 03/2027",  # a voucher's date, not a card's expiry
        "it says valid until 03/2027",
        "the barcode is 4006381333931",
    ],
)
def test_labelled_numbers_are_not_pii(text):
    assert masked(text) == []


@pytest.mark.parametrize(
    "messages",
    [
        ["invoice number 4471-0093", "thanks"],
        ["reservation number 2389-7712-0034", "ok"],
        ["I'm on Windows 10 build 19045.3803", "still crashing"],
        ["Rechnungsnummer 4471-0093", "danke"],
    ],
)
def test_split_card_rule_reads_labels(messages):
    redactor = Redactor(TYPES, card_context=CardContextPolicy())
    context = None
    language = "de" if messages[0].startswith("Rechnung") else "en"
    for t, text in enumerate(messages):
        result = redactor.redact(text, context, 1_790_000_000.0 + t, language=language)
        assert result.text == text
        context = result.context


@pytest.mark.parametrize(
    "text, value",
    [
        ("my order was charged to 4111 1111 1111 1111", "4111 1111 1111 1111"),
        ("order 5512 was paid with 3782 822463 10005", "3782 822463 10005"),
        ("invoice 4471-0093: 5555555555554444", "5555555555554444"),
    ],
)
def test_a_label_never_hides_an_unmistakable_card(text, value):
    """Labels name the number right after them, and only one that could be something else (13-15 digits)."""
    assert (CARD, value) in masked(text)


def test_expiry_after_a_card_word_still_masked():
    assert ("CREDIT_DEBIT_EXPIRY", "03/2029") in masked("card expires 03/2029")
    assert masked("exp 03/29") == [("CREDIT_DEBIT_EXPIRY", "03/29")]


def test_split_card_with_an_unknown_issuer_after_a_card_word():
    redactor = Redactor(TYPES, card_context=CardContextPolicy())
    context = None
    shown = []
    for t, text in enumerate(["cartão 1354", "1001 4004", "955"]):
        result = redactor.redact(text, context, 1_790_000_000.0 + t, language="pt")
        shown.append(result.text)
        context = result.context
    assert shown == ["cartão 1354", "[CREDIT_DEBIT_NUMBER]", "[CREDIT_DEBIT_CVV]"]
