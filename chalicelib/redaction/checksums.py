"""Validators behind the detectors: checksums, issuer ranges and number-format rules (docs/reference/pii-validation.md).

python-stdnum supplies the checksums where it has them (IBAN, SSN, ITIN, ABA routing, SIN, NHS, BIC). It is
imported inside each function: `import stdnum.util` costs ~45 ms on its own (it pulls in pydoc) and ~6 ms
once boto3 is loaded (CPU time, python-stdnum 2.2), which every Lambda would pay on its cold start, while these
validators run only for the rare candidate that has the right shape.

Luhn is written here: it runs on every card-shaped candidate, and measured 1.0 us against stdnum's 3.0 us.
"""

from __future__ import annotations

import datetime
import re
from functools import cache, lru_cache


def digits_of(value: str) -> str:
    if value.isascii():  # the usual case, and there str.isdigit means 0-9: one C call instead of a loop
        return _NON_DIGITS.sub("", value)
    return "".join(ch for ch in value if ch.isdigit())


_NON_DIGITS = re.compile(r"[^0-9]+")


# Each ASCII digit's byte -> that digit doubled, minus 9 above 9, as a number (not a digit character).
_LUHN_DOUBLED = bytes.maketrans(b"0123456789", bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]))


def luhn_ok(digits: str) -> bool:
    """Every second digit from the right doubled. Over the bytes, with a table: `sum` of a bytes object adds the
    byte values in C (~3x faster than `int` per digit). Anything but ASCII digits is not Luhn-valid."""
    if not (digits.isascii() and digits.isdigit()):
        return False
    raw = digits.encode("ascii")
    plain = raw[-1::-2]
    return (sum(plain) - 48 * len(plain) + sum(raw[-2::-2].translate(_LUHN_DOUBLED))) % 10 == 0


# Issuer ranges (prefix ranges, inclusive) and the PAN lengths each issues (docs/reference/pii-validation.md#iin),
# plus the JCB, Mir, RuPay and Troy ranges processors' test cards use (benchmarks/data/realworld/cards.json).
_IIN_RANGES: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("51", "55", frozenset({16})),  # Mastercard
    ("2221", "2720", frozenset({16})),  # Mastercard 2-series
    ("34", "34", frozenset({15})),  # Amex
    ("37", "37", frozenset({15})),
    ("6011", "6011", frozenset(range(16, 20))),  # Discover
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),
    ("622126", "622925", frozenset(range(16, 20))),
    ("3528", "3589", frozenset(range(15, 20))),  # JCB
    ("3088", "3094", frozenset(range(16, 20))),  # JCB ranges taken over from Discover/Diners (3088-3094, ...)
    ("3096", "3102", frozenset(range(16, 20))),
    ("3112", "3120", frozenset(range(16, 20))),
    ("3158", "3159", frozenset(range(16, 20))),
    ("3337", "3349", frozenset(range(16, 20))),
    ("2131", "2131", frozenset({15})),  # JCB legacy
    ("1800", "1800", frozenset({15})),
    ("300", "305", frozenset(range(14, 17))),  # Diners
    ("3095", "3095", frozenset(range(14, 17))),
    ("36", "36", frozenset(range(14, 17))),
    ("38", "39", frozenset(range(14, 17))),
    ("50", "50", frozenset(range(12, 20))),  # Maestro
    ("56", "69", frozenset(range(12, 20))),
    ("62", "62", frozenset(range(16, 20))),  # UnionPay
    ("2200", "2204", frozenset(range(16, 20))),  # Mir
    ("60", "60", frozenset({16})),  # RuPay 60, Hipercard 606282
    ("81", "82", frozenset({16})),  # RuPay
    ("508", "508", frozenset({16})),
    ("9792", "9792", frozenset({16})),  # Troy
    ("1", "1", frozenset({15})),  # UATP
)


def known_issuer(digits: str) -> bool:
    """The PAN starts with a known issuer range and has a length that issuer uses."""
    return len(digits) in _issuer_lengths(digits[:6])


@lru_cache(maxsize=4096)  # keyed by the first six digits, the BIN PCI DSS allows to be shown
def _issuer_lengths(prefix: str) -> frozenset[int]:
    """Every PAN length issued under ranges that `prefix` (the first six digits) falls in."""
    lengths: frozenset[int] = frozenset()
    for low, high, issued in _IIN_RANGES:
        if low <= prefix[: len(low)] <= high:
            lengths |= issued
    return lengths


@lru_cache(maxsize=4096)
def issuer_prefix(digits: str) -> bool:
    """A 4-6 digit group that could start a PAN (used to spot the first fragment of a split card)."""
    for low, high, _ in _IIN_RANGES:
        n = min(len(digits), len(low))
        if low != "1" and low[:n] <= digits[:n] <= high[:n]:
            return True
    return False


def ssn_ok(digits: str) -> bool:
    if digits[:1] == "9":  # area 9xx is never an SSN (it is an ITIN's): no need to ask stdnum
        return False
    from stdnum.us import ssn

    return ssn.is_valid(digits)


# The ITIN group (4th-5th digits) ranges the IRS issues today: python-stdnum 2.2 does not know 50-65 yet.
_ITIN_GROUPS = frozenset([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])


def itin_ok(digits: str) -> bool:
    """9xx-GG-xxxx with GG in the IRS's ranges (docs/reference/pii-validation.md). Written here, not asked of
    stdnum: its group table lags the IRS's."""
    return len(digits) == 9 and digits.isdigit() and digits[0] == "9" and int(digits[3:5]) in _ITIN_GROUPS


_ROUTING_PREFIXES = frozenset(
    [f"{n:02d}" for n in range(0, 13)] + [str(n) for n in range(21, 33)] + [str(n) for n in range(61, 73)] + ["80"]
)


def routing_ok(digits: str) -> bool:
    """ABA 3-7-1 checksum (stdnum) plus the Federal Reserve prefix ranges stdnum does not check."""
    from stdnum.us import rtn

    return digits[:2] in _ROUTING_PREFIXES and rtn.is_valid(digits)


def sin_ok(digits: str) -> bool:
    from stdnum.ca import sin

    return sin.is_valid(digits)


def nhs_ok(digits: str) -> bool:
    from stdnum.gb import nhs

    return nhs.is_valid(digits)


def iban_ok(compact: str) -> bool:
    """Mod-97 and the country's registered BBAN format (stdnum's IBAN registry).

    National BBAN checksums are not required: mod-97 over the right shape is already a 1-in-97 filter, and
    a transcription slip in a bank-internal check digit must not let a real account number through.
    Same verdict as `stdnum.iban.is_valid(compact, check_country=False)` (a test compares them), at a tenth of
    the cost: stdnum looks the country up in its registry file on every call, here each country's format is
    read from that registry once.
    """
    if len(compact) < 5 or not (compact.isascii() and compact.isalnum()):
        return False
    compact = compact.upper()
    return iban_parts_ok(compact[:2], compact[2:4], compact[4:])


def iban_parts_ok(country: str, check_digits: str, bban: str) -> bool:
    """`iban_ok` of an IBAN already split and upper-cased: ASCII letters and digits only (the detector's pattern
    reads no others)."""
    pattern = _iban_bban(country)
    if pattern is None or not pattern.match(bban):
        return False
    # ISO 7064 mod 97-10: country and check digits moved to the end, letters read as 10..35. Most BBANs are all
    # digits: then only the country code has letters to read. Otherwise each character is looked up: str.translate
    # with a dict that maps a letter to two characters takes its slow path, ~10x the cost of this loop.
    if bban.isdigit() and check_digits.isdigit():
        number = bban + _LETTER_VALUES[country[0]] + _LETTER_VALUES[country[1]] + check_digits
    else:
        number = "".join([_LETTER_VALUES.get(char, char) for char in bban + country + check_digits])
    return int(number) % 97 == 1


_LETTER_VALUES = {letter: str(value) for value, letter in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10)}


@cache  # keyed by two letters: at most 676 entries, never a number
def iban_length(country: str) -> int | None:
    """The IBAN length the registry gives `country` (upper case), or None for a country without IBANs."""
    if not (len(country) == 2 and country.isascii() and country.isalpha() and country.isupper()):
        return None
    from stdnum import numdb

    structure = numdb.get("iban").info(country)[0][1].get("bban")
    if not structure:
        return None
    return 4 + sum(int(count) for count in re.findall(r"([1-9][0-9]*)!", structure))


@cache  # keyed by two letters: at most 676 entries, never a number
def _iban_bban(country: str) -> re.Pattern[str] | None:
    """The compiled BBAN format stdnum's registry gives a country ("8!n10!n"), or None for no such country."""
    import re

    from stdnum import numdb

    structure = numdb.get("iban").info(country)[0][1].get("bban")
    if not structure:
        return None
    kinds = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}
    body = re.sub(r"([1-9][0-9]*)!([nac])", lambda m: f"{kinds[m.group(2)]}{{{m.group(1)}}}", structure)
    return re.compile(f"^{body}$")


def bic_ok(code: str) -> bool:
    from stdnum import bic

    return bic.is_valid(code)


# UK NINO: no check digit; these prefixes are never allocated (HMRC NIM39110).
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def nino_shape(compact: str) -> bool:
    """Two letters, six digits, A-D: what every NINO looks like, allocated or not ("QQ 12 34 56 A", HMRC's
    own example, uses a prefix never allocated)."""
    compact = compact.upper()
    return (
        len(compact) == 9
        and compact[:2].isascii()
        and compact[:2].isalpha()
        and compact[2:8].isdigit()
        and compact[8] in "ABCD"
    )


def nino_ok(compact: str) -> bool:
    """A NINO HMRC could have allocated: the shape, and a prefix allowed by NIM39110."""
    compact = compact.upper()
    if not nino_shape(compact) or compact[:2] in _NINO_BAD_PREFIXES:
        return False
    return compact[0] not in "DFIQUV" and compact[1] not in "DFIQUVO"


def dvla_ok(compact: str) -> bool:
    """A UK (DVLA) driving licence number: 5 surname characters (padded with 9), 6 digits holding the birth date
    (decade, month +50 for women, day, year), 2 initials (padded with 9), a digit and 2 check characters,
    optionally a 2-digit issue number (Wikipedia: Driving licence in the United Kingdom, Driver number)."""
    compact = compact.upper()
    if len(compact) not in (16, 18) or not compact.isascii() or not compact.isalnum():
        return False
    surname, birth, initials, rest = compact[:5], compact[5:11], compact[11:13], compact[13:]
    if not (
        surname[0].isalpha()
        and all(c.isalpha() or c == "9" for c in surname)
        and birth.isdigit()
        and all(c.isalpha() or c == "9" for c in initials)
        and rest[0].isdigit()
        and rest[1:3].isalnum()
    ):
        return False
    month, day = int(birth[1:3]), int(birth[3:5])
    return (1 <= month <= 12 or 51 <= month <= 62) and 1 <= day <= 31 and (not rest[3:] or rest[3:].isdigit())


def expiry_year_ok(year: int, today: datetime.date | None = None) -> bool:
    """A card expiry year is within last year .. ten years ahead; anything else is just a date."""
    this_year = (today or datetime.date.today()).year
    if year < 100:
        year += 2000
    return this_year - 1 <= year <= this_year + 10
