"""Local PII detectors: one small detector per entity type — a pattern, a validator, context words.

Each detector emits Comprehend entity type names, so local and Comprehend detections merge as one.
A validator answers `VALID` (checksum or unmistakable shape), `NEEDS_CONTEXT` (right shape, but only a
context word makes it PII: a bare 9-digit number is an SSN only when someone says "SSN") or None.
Detectors run over normalised text (see normalize.py); spans are offsets into that text.

Patterns never run where they cannot match: a detector lists `hints` (lowercase substrings one of which
must occur) and the fewest digits its entity holds, which keeps the common short chat line to a few scans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from typing import Any, NamedTuple

from chalicelib.redaction import checksums as check
from chalicelib.redaction import languages as lang
from chalicelib.redaction.hints import HintWords
from chalicelib.redaction.normalize import digit_count
from chalicelib.redaction.spans import Coverage
from chalicelib.redaction.widening import widen_all

VALID = "valid"
NEEDS_CONTEXT = "needs_context"
SCORE = {VALID: 0.95, NEEDS_CONTEXT: 0.85}

Verdict = str | None


class Detection(NamedTuple):
    entity_type: str
    start: int
    end: int
    score: float


def words(*phrases: str) -> re.Pattern:
    """A case-insensitive pattern matching any phrase as whole words (spaces match any whitespace).

    The phrases are factored by common prefixes (`languages.prefix_tree`): with six languages' words a plain alternation
    costs twice as much per search."""
    return re.compile(rf"(?<![a-z0-9])(?:{lang.prefix_tree(phrases)})(?![a-z0-9])", re.IGNORECASE)


def always(_value: str) -> Verdict:
    return VALID


def with_context(_value: str) -> Verdict:
    return NEEDS_CONTEXT


@dataclass(frozen=True)
class Detector:
    """Finds one entity type: pattern candidates, kept when the validator (and context, if asked) agree.

    `patterns` scan the whole text; `run_patterns` scan only its digit runs ("4111 1111-1111", "12/28"),
    which are found once per message and shared by every detector, so a number-only detector costs
    nothing on the many messages with few digits. A pattern's span is its `v` group when it has one.
    """

    entity_type: str
    patterns: tuple[re.Pattern, ...] = ()
    validate: Callable[[str], Verdict] = always
    context: re.Pattern | None = None
    hints: tuple[str, ...] = ()
    min_digits: int = 1  # the fewest digits a text must hold to contain this entity
    window: int = 7  # words
    run_patterns: tuple[re.Pattern, ...] = ()
    gate: tuple[re.Pattern, ...] = ()  # cheap patterns that must all match first; each searched once per message
    worded: bool = False  # `patterns` match only right after a context word: their NEEDS_CONTEXT is met already
    # Words saying a number is something else ("invoice", "tracking"): a shape-only VALID then needs a context word.
    labels: re.Pattern | None = None
    # What the message's digit runs must hold (`RunShape`, worked out once per message): e.g. consecutive groups
    # of exactly 9 digits for an SSN (a card's 4-4-4-4 never sums to 9). None: no such rule.
    shape: Callable[[RunShape], bool] | None = None
    # Its detections are whole, checksum-validated numbers (IBANs, cards): it runs first, and the detectors after it
    # read the digit runs without them ("DE89 3704 ... 00 4111 1111 1111 1111" then holds the card's run on its own;
    # a card's 16 digits are no SSN's to look at). 0: it claims nothing; otherwise the order claiming detectors run in.
    claims: int = 0

    def find(self, text: str, lowered: str, runs: list[tuple[int, str]]) -> list[Detection]:
        # Plain loops, not generators: this runs for every detector on every message.
        found: list[Detection] = []
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                self._check(match, 0, text, lowered, found, self.worded)
        for pattern in self.run_patterns:
            for offset, run in runs:
                for match in pattern.finditer(run):
                    self._check(match, offset, text, lowered, found)
        if self.patterns and self.run_patterns and len(found) > 1:  # both kinds may find the same value
            found = list({(d.start, d.end): d for d in found}.values())
        return found

    def _check(
        self, match: re.Match, offset: int, text: str, lowered: str, found: list[Detection], worded: bool = False
    ) -> None:
        start, end = match.span("v") if "v" in match.re.groupindex else match.span()
        start, end = start + offset, end + offset
        if start == end:
            return
        verdict = self.validate(text[start:end])
        if verdict == NEEDS_CONTEXT and not worded and not self.has_context(lowered, start, end):
            return
        if (
            verdict == VALID
            and self.labels is not None
            and labelled_before(self.labels, lowered, start)
            and not self.has_context(lowered, start, end)
        ):
            return
        if verdict is not None:
            found.append(Detection(self.entity_type, start, end, SCORE[verdict]))

    def has_context(self, lowered: str, start: int, end: int) -> bool:
        """A context word in the same chat message; in a long text, within `window` words either side.

        A chat message is short, and the whole of it is the natural context. It also keeps redaction
        idempotent: masking shortens text, which would move a context word in or out of a fixed window.
        """
        if self.context is None:
            return False
        if len(lowered) <= WHOLE_MESSAGE_CONTEXT:
            return self.context.search(lowered) is not None
        before = _words_before(self.window).search(lowered, max(0, start - 40 * self.window), start)
        after = _words_after(self.window).match(lowered, end, min(len(lowered), end + 40 * self.window))
        # Both patterns match at least the empty string; the fallbacks only satisfy the type checker.
        return (
            self.context.search(lowered, before.start() if before else start, after.end() if after else end) is not None
        )


# ---------------------------------------------------------------------------------------------- shapes

# A NINO starts a word with two letters and two digits ("AB 12"): a cheap scan that rules out its long pattern.
# The word boundary is the pattern's own, so "order 18" or "SAVE33" opens none. (An IBAN starts the same way; its
# detector's first scan, `_IBAN_START`, is that test already.)
_LETTERS_DIGITS = re.compile(r"\b[A-Za-z]{2} ?[0-9][0-9]")
WHOLE_MESSAGE_CONTEXT = 300  # characters: a chat message up to this long is one context


@cache
def _words_before(count: int) -> re.Pattern:
    # Possessive: backtracking into a word can never end the match at `$`, and without it every start position
    # of a long text cost ~4x more (the search tries them all).
    return re.compile(rf"(?:\S++\s++){{0,{count}}}+\S*+$")


@cache
def _words_after(count: int) -> re.Pattern:
    return re.compile(rf"\S*(?:\s+\S+){{0,{count}}}")


# Separators inside a digit run: space, dash, dot, slash, underscore (NBSP is a space after normalising).
SEP = r"(?:[ \t]{0,3}[-./_][ \t]{0,3}|[ \t]{1,3})"
# Detectors read normalised text, whose digits are all ASCII (normalize.py turns every other decimal digit into one):
# their patterns say [0-9], which the engine tests in place, not \d, which asks Unicode's tables for each character
# (~2% of a message's instructions).
# "A digit not after a word character", written digit-first: a pattern that opens with a look-behind is tried at
# every position, one that opens with a digit lets the engine skip to the digits (~1.5x faster on chat lines).
_DIGIT_RUN = re.compile(rf"[0-9](?<!\w[0-9])[0-9]*(?:{SEP}[0-9]+)*(?!\w)")
_GROUP = re.compile(r"[0-9]+")
_YEAR2 = r"(?:20)?[0-9]{2}"


def _keyword_value(keywords: str, value: str, filler: str) -> re.Pattern:
    return re.compile(rf"(?<![^\W_])(?:{keywords})(?![^\W_]){filler}(?P<v>{value})", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------- cards


def _certain_shape(digits: str, run_start: bool, first_group: int) -> bool:
    """A card with no word needed, if Luhn agrees: a known issuer's range and a length it issues, grouped in fours
    (or not at all), starting its digit run (`run_start`: a window inside a longer number needs a card word).
    Luhn passes for 1 in 10 random numbers, so anything else needs a card word; 12 digits look like tracking and
    account numbers too often, so those always do (13 only where an issuer issues 13: Visa)."""
    return len(digits) >= 13 and run_start and first_group in (4, len(digits)) and check.known_issuer(digits)


@dataclass(frozen=True)
class CardDetector(Detector):
    """Card numbers: 12-19 digits in groups; tries group-aligned windows so "PAN CVV" or "PAN 12/28" still match.

    A Luhn-valid 13-19 digit window is a card when a card word is in the message (whatever its issuer: processors
    test with "unknown brand" numbers), when it has a known issuer's shape (`_certain_shape`), or when it is the
    whole message and 14-19 digits long (a customer pasting a number alone is answering for a card far more often
    than not; 13-digit cards are Visa's alone, which the issuer table knows). A *label*
    word ("IMEI", "tracking", "invoice", in the selected language) with no card word says the number is something
    else: then only a card word can make it a card.
    """

    def find(self, text: str, lowered: str, runs: list[tuple[int, str]]) -> list[Detection]:
        found: list[Detection] = []
        for _, run in runs:
            if len(run) >= 12:
                break
        else:
            return found  # no run long enough to hold 12 digits: no word search needed
        words = _CardWords(self, lowered)
        for offset, run in runs:
            if len(run) >= 12:
                groups = [(m.start() + offset, m.end() + offset, m.group()) for m in _GROUP.finditer(run)]
                alone = (
                    len(runs) == 1
                    and _ONLY_PUNCTUATION.fullmatch(text, 0, offset) is not None
                    and _ONLY_PUNCTUATION.fullmatch(text, offset + len(run)) is not None
                )
                self._windows(groups, lowered, text, found, words, offset, alone)
        return found

    def _windows(
        self,
        groups: list[tuple[int, int, str]],
        lowered: str,
        text: str,
        found: list[Detection],
        words: _CardWords,
        offset: int,
        alone: bool,
    ) -> None:
        whole_message = len(lowered) <= WHOLE_MESSAGE_CONTEXT  # then `worded` is has_context's answer too
        tiles = _card_tiling(groups, lambda: words.labelled(offset))
        first = 0
        while first < len(groups):
            last = tiles.get(first)
            if last is not None:  # one of several cards typed back to back in one run
                found.append(Detection(self.entity_type, groups[first][0], groups[last][1], SCORE[VALID]))
                first = last + 1
                continue
            if first and not words.worded():
                return  # a window inside the run needs a word, and there is none
            candidates = []
            digits = ""
            for last in range(first, len(groups)):
                digits += groups[last][2]
                if len(digits) > 19:
                    break
                if len(digits) >= 12:
                    candidates.append((last, digits))
            matched = None
            for last, digits in reversed(candidates):  # longest window first (all hold 12-19 digits)
                run_start = first == 0 and not _grouping_continues(groups, last, text)
                shaped = _certain_shape(digits, run_start, len(groups[first][2]))
                # A label ("IMEI", "tracking number") names a number unless it is unmistakably a card: 16-19 digits
                # of a known issuer, or Amex's and Diners' 4-6-5 / 4-6-4 grouping.
                # Alone, any issuer but none starting with 0 (ISO's own industry digit: "0000 0000 0000 0000" is a
                # placeholder; the legacy Maestro range 0604 needs a card word).
                certain = (
                    shaped and (_unmistakable(groups[first : last + 1], digits) or not words.labelled(offset))
                ) or (
                    alone
                    and last == len(groups) - 1
                    and len(digits) >= 14
                    and digits[0] != "0"
                    and not words.labelled(offset)
                )
                if not (certain or words.worded()) or not check.luhn_ok(digits):
                    continue
                start, end = groups[first][0], groups[last][1]
                if certain or (words.worded() if whole_message else self.has_context(lowered, start, end)):
                    found.append(Detection(self.entity_type, start, end, SCORE[VALID if certain else NEEDS_CONTEXT]))
                    matched = last
                    break
            first = matched + 1 if matched is not None else first + 1


class _CardWords:
    """What the message's words say of its numbers, each searched on first need only: a card-shaped number
    (most cards typed) needs neither search."""

    __slots__ = ("_detector", "_lowered", "_worded")

    def __init__(self, detector: CardDetector, lowered: str):
        self._detector = detector
        self._lowered = lowered
        self._worded: bool | None = None

    def worded(self) -> bool:
        """A card word can back an uncertain window. In a chat message the whole message is the context: one
        search. Without one, only a window that starts its run and is card-shaped can match, so the Luhn sums
        of all the others are skipped (most long numbers are tracking or order ids)."""
        if self._worded is None:
            context = self._detector.context
            self._worded = len(self._lowered) > WHOLE_MESSAGE_CONTEXT or (
                context is not None and context.search(self._lowered) is not None
            )
        return self._worded

    def labelled(self, offset: int) -> bool:
        """A label word ("IMEI", "invoice") names the number at `offset`, and no card word says otherwise."""
        labels = self._detector.labels
        return labels is not None and not self.worded() and labelled_before(labels, self._lowered, offset)


def _card_tiling(groups: list[tuple[int, int, str]], labelled: Callable[[], bool]) -> dict[int, int]:
    """Cards typed back to back in one digit run ("4111 1111 1111 1111 5500 0000 0000 0004"): windows (first group
    -> last group) that cover the whole run, two or more, each of them card-shaped on its own (`_certain_shape`:
    a known issuer's length, grouped in fours or not at all, and Luhn). A tracking number in the same grouping
    passes that only by chance (1 in 100 for two windows, before the issuer table). Each window is examined once:
    work linear in the run, however many cards it holds. {} when there is no such tiling."""
    count = len(groups)
    # Two 13-digit cards at least; the run's length bounds its digits (the sum only when it might hold 26).
    if count < 2 or groups[-1][1] - groups[0][0] < 26 or sum(len(group[2]) for group in groups) < 26:
        return {}
    # window_end[first]: the last group of the longest window that starts a tiling of groups[first:], or -1.
    window_end = [-1] * count + [count]  # the empty rest is tiled
    for first in range(count - 1, -1, -1):
        digits = ""
        for last in range(first, count):
            digits += groups[last][2]
            if len(digits) > 19:
                break
            if (
                window_end[last + 1] >= 0
                and _certain_shape(digits, True, len(groups[first][2]))
                and check.luhn_ok(digits)
                and (_unmistakable(groups[first : last + 1], digits) or not labelled())
            ):
                window_end[first] = last  # ascending: the longest window wins
    if window_end[0] < 0:
        return {}
    tiles: dict[int, int] = {}
    first = 0
    while first < count:
        tiles[first] = window_end[first]
        first = window_end[first] + 1
    return tiles if len(tiles) >= 2 else {}


def _unmistakable(groups: list[tuple[int, int, str]], digits: str) -> bool:
    if len(digits) >= 16:
        return True
    sizes = [len(group[2]) for group in groups]
    return sizes in ([4, 6, 5], [4, 6, 4])


def labelled_before(labels: re.Pattern, lowered: str, start: int) -> bool:
    """A label word ("IMEI", "tracking number", "Rechnungsnummer") in the few words just before `start`: the
    message says what this number is. `labels` is built by `label_pattern`."""
    return labels.search(lowered, max(0, start - _LABEL_REACH), start) is not None


def label_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Label words followed by at most three words ("the phone's IMEI is", "l'IMEI du téléphone est") and then the
    end of the searched text, which is where the number starts."""
    return re.compile(
        rf"(?<![^\W_])(?:{lang.prefix_tree(phrases)})(?![^\W_])(?:[^\w]+[^\W0-9_]+){{0,3}}[^\w]*$", re.IGNORECASE
    )


_LABEL_REACH = 80  # characters before a number searched for its label


# What may surround a number that is the whole message: "4111111111111111", "4111 1111 1111 1111." or "(…)".
_ONLY_PUNCTUATION = re.compile(r"[\s.,;:!?()\[\]'\"#-]*")  # fullmatch, over the text before and after it


def _grouping_continues(groups: list[tuple[int, int, str]], last: int, text: str) -> bool:
    """The run goes on past the window in the same 4-digit grouping: one longer number (a tracking id), not a card."""
    if last + 1 >= len(groups) or last == 0:
        return False
    inside = text[groups[last - 1][1] : groups[last][0]]
    after = text[groups[last][1] : groups[last + 1][0]]
    return after == inside and len(groups[last + 1][2]) == len(groups[last][2])


# ---------------------------------------------------------------------------------------------- IBANs

# Where an IBAN may start: a country code and two check digits, a space allowed between them ("BE 68 ...").
# (The look-behind is \b before the first letter: written letter-first, finditer over a message is ~2x faster.)
_IBAN_START = re.compile(r"([A-Za-z](?<!\w[A-Za-z])[A-Za-z]) ?([0-9][0-9])")
_IBAN_SEPARATORS = " .-"


@dataclass(frozen=True)
class IbanDetector(Detector):
    """IBANs in any grouping: after the country code and check digits, exactly as many letters and digits as the
    registry gives that country, read across single spaces, dashes or dots ("ES10 0075 0080 11 0600658108",
    "DE89-3704-..."); the number must end there, and mod 97 decide. Counting to the registry length, rather than
    matching groups of four, is what keeps a following word ("... 8741 is my IBAN") out of the number."""

    def find(self, text: str, lowered: str, runs: list[tuple[int, str]]) -> list[Detection]:
        found: list[Detection] = []
        for match in _IBAN_START.finditer(text):
            country = match.group(1).upper()
            length = check.iban_length(country)
            if length is None:
                continue
            body = _iban_body(length - 4).match(text, match.end())
            if body is None:
                continue
            written = body.group()
            upper = written.upper()
            if written != upper and not all(map(_number_like, _IBAN_GROUPS.split(written.lstrip(_IBAN_SEPARATORS)))):
                continue  # (no lower-case letter, the usual case: every group is number-like)
            bban = upper.replace(" ", "").replace(".", "").replace("-", "")
            if check.iban_parts_ok(country, match.group(2), bban):
                found.append(Detection(self.entity_type, match.start(), body.end(), SCORE[VALID]))
        return found


_IBAN_GROUPS = re.compile(r"[ .-]")


@cache  # one per BBAN length (at most ~30)
def _iban_body(count: int) -> re.Pattern:
    """`count` ASCII letters and digits read across single separators, ending there (the number stops).

    Written out `count` times rather than as a counted group: the engine keeps repeat state at every turn of a
    group, and this is matched for every IBAN-shaped start (the written-out form costs ~20% less a match)."""
    return re.compile("[ .-]?[A-Za-z0-9]" * count + r"(?![^\W_])")


def _number_like(group: str) -> bool:
    """A group of a written IBAN holds a digit or is upper case ("WEST"): a lower-case word is text."""
    return group.isupper() or not group.isalpha()


# ---------------------------------------------------------------------------------------------- driving licences

# A UK (DVLA) number: 5 surname characters, 6 digits, 2 initials, a digit, 2 check characters, an issue number.
_DVLA_DIGITS = re.compile(r"[0-9]{6}(?= ?[A-Za-z9]{2}[0-9][A-Za-z0-9]{2})")
_DVLA_AT = re.compile(r"[A-Za-z][A-Za-z9]{4} ?[0-9]{6} ?[A-Za-z9]{2}[0-9][A-Za-z0-9]{2}(?: ?[0-9]{2})?(?![^\W_])")


@dataclass(frozen=True)
class DvlaDetector(Detector):
    """DVLA numbers anywhere, no word needed: found from their six birth-date digits (a digit-first search), the
    whole shape then matched from five characters before them, and its date checked."""

    def find(self, text: str, lowered: str, runs: list[tuple[int, str]]) -> list[Detection]:
        found: list[Detection] = []
        for digits in _DVLA_DIGITS.finditer(text):
            offset = digits.start()
            start = offset - 6 if offset and text[offset - 1] == " " else offset - 5
            if start < 0 or (start > 0 and text[start - 1].isalnum()):
                continue
            match = _DVLA_AT.match(text, start)
            if match is not None and check.dvla_ok(match.group().replace(" ", "")):
                found.append(Detection(self.entity_type, match.start(), match.end(), SCORE[VALID]))
        return found


# ---------------------------------------------------------------------------------------------- expiry


@dataclass(frozen=True)
class ExpiryDetector(Detector):
    """Card expiry dates: a word that names an expiry ("exp", "fecha de vencimiento"), or a generic one ("valid
    until", "vence") beside a card word. "valid until 03/2027" alone is a voucher's or a contract's date."""

    weak: re.Pattern | None = None
    card: re.Pattern | None = None

    def has_context(self, lowered: str, start: int, end: int) -> bool:
        if super().has_context(lowered, start, end):
            return True
        return (
            self.weak is not None
            and self.card is not None
            and self.weak.search(lowered) is not None
            and self.card.search(lowered) is not None
        )


# ---------------------------------------------------------------------------------------------- validators


# "123-45-6789", "123.45.6789", "123 45 6789": how SSNs and ITINs are written, and nothing else is (phones group
# 3-3-4). No separator, or a mixed or odd one, needs a context word.
_DASHED_SSN = re.compile(r"[0-9]{3}(?P<sep>[-. ])[0-9]{2}(?P=sep)[0-9]{4}")
# A SIN written 3-3-3 with spaces or dashes, or a routing number 4-4-1 as printed on a cheque.
_GROUPED_SIN = re.compile(r"[0-9]{3}(?P<sep>[- ])[0-9]{3}(?P=sep)[0-9]{3}")
_GROUPED_ROUTING = re.compile(r"[0-9]{4}(?P<sep>[-. ])[0-9]{4}(?P=sep)[0-9]")


def _ssn(value: str) -> Verdict:
    digits = check.digits_of(value)
    if len(digits) != 9 or not check.ssn_ok(digits):
        return None
    return VALID if _DASHED_SSN.fullmatch(value) else NEEDS_CONTEXT


def _itin(value: str) -> Verdict:
    digits = check.digits_of(value)
    if len(digits) != 9 or not check.itin_ok(digits):
        return None
    return VALID if _DASHED_SSN.fullmatch(value) else NEEDS_CONTEXT


def _sin(value: str) -> Verdict:
    if not check.sin_ok(check.digits_of(value)):
        return None
    return VALID if _GROUPED_SIN.fullmatch(value) else NEEDS_CONTEXT


def _routing(value: str) -> Verdict:
    if not check.routing_ok(check.digits_of(value)):
        return None
    return VALID if _GROUPED_ROUTING.fullmatch(value) else NEEDS_CONTEXT


def _account(value: str) -> Verdict:
    return NEEDS_CONTEXT if 8 <= len(check.digits_of(value)) <= 17 else None


def _driver_id(value: str) -> Verdict:
    """A value after a licence word (DVLA numbers: DvlaDetector)."""
    return VALID if sum(ch.isdigit() for ch in value) >= 5 else None


def _digits_check(test: Callable[[str], bool]) -> Callable[[str], Verdict]:
    def validate(value: str) -> Verdict:
        return NEEDS_CONTEXT if test(check.digits_of(value)) else None

    return validate


_EXPIRY_YEAR = re.compile(r"([0-9]{2,4})\s*$")


def _expiry(value: str) -> Verdict:
    year = _EXPIRY_YEAR.search(value)
    if year is None or not check.expiry_year_ok(int(year.group(1))):
        return None
    return NEEDS_CONTEXT


def _iban(value: str) -> Verdict:
    return VALID if check.iban_ok(re.sub(r"[\s-]", "", value).upper()) else None


def _nino(value: str) -> Verdict:
    compact = re.sub(r"\s", "", value)
    if check.nino_ok(compact):
        return VALID
    return NEEDS_CONTEXT if check.nino_shape(compact) else None


def _bic(value: str) -> Verdict:
    return NEEDS_CONTEXT if check.bic_ok(value) else None


def _min_digits(count: int) -> Callable[[str], Verdict]:
    def validate(value: str) -> Verdict:
        return VALID if sum(ch.isdigit() for ch in value) >= count else None

    return validate


def _password(value: str) -> Verdict:
    return VALID if len(value.strip(".,!?;:'\"")) >= 4 else None


_ISO_DATE = re.compile(r"^(?:19|20)[0-9][0-9][-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12][0-9]|3[01])$")
_DMY_DATE = re.compile(r"^(?:0?[1-9]|[12][0-9]|3[01])[-./](?:0?[1-9]|1[0-2])[-./](?:19|20)[0-9][0-9]$")


_DATE_START = re.compile(r"^(?:19|20)[0-9][0-9][-./][0-9][0-9]?[-./][0-9][0-9]?")
_PHONE_GROUP = re.compile(r"[0-9]+")


def _phone(value: str) -> Verdict:
    main = re.split(r"\s?(?:x|ext\.?)\s?[0-9]", value, maxsplit=1, flags=re.IGNORECASE)[0]
    digits = check.digits_of(main)
    if not 7 <= len(digits) <= 15 or _DATE_START.match(main) or _DMY_DATE.match(main):
        return None
    groups = len(_PHONE_GROUP.findall(main))
    if "+" in main or "(" in main or (groups >= 3 and len(digits) >= 9):
        return VALID
    return NEEDS_CONTEXT  # "9816 214 Pavlou Dr", "ZIP 90010-170", order ids: a phone only where someone says so


def _ipv6(value: str) -> Verdict:
    import ipaddress

    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return None
    return VALID if value.count(":") >= 2 and any(ch.isdigit() for ch in value) else None


def _aws_secret(value: str) -> Verdict:
    has_kinds = any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)
    return NEEDS_CONTEXT if has_kinds else None


# ---------------------------------------------------------------------------------------------- the detectors

# Merge order, and the types detected locally: when detections overlap, the earlier type names the mask.
ENTITY_TYPES = (
    "CREDIT_DEBIT_NUMBER",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "SSN",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "BANK_ROUTING",
    "BANK_ACCOUNT_NUMBER",
    "PASSPORT_NUMBER",
    "DRIVER_ID",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CREDIT_DEBIT_CVV",
    "CREDIT_DEBIT_EXPIRY",
    "PIN",
    "PASSWORD",
    "SWIFT_CODE",
    "IP_ADDRESS",
    "EMAIL",
    "PHONE",
)
PRIORITY = {kind: rank for rank, kind in enumerate(ENTITY_TYPES)}
SUPPORTED_TYPES = frozenset(ENTITY_TYPES)
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"


@cache
def all_detectors(language: str = "en") -> tuple[Detector, ...]:
    """Every local detector, in ENTITY_TYPES order (DRIVER_ID has two: licence words, DVLA shape), reading English and `language`'s words (languages.py).
    Built on first use per language, not at import: compiling these patterns takes ~10 ms, which Lambdas that
    never redact (scanner, IVR) should not pay on cold start."""
    lang.check_language(language)

    def context(kind: str) -> re.Pattern:
        return words(*lang.context_words(kind, language))

    def keywords(kind: str) -> str:
        return lang.prefix_tree(lang.context_words(kind, language))

    def hints(*kinds: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(h for kind in kinds for h in lang.hints_of(lang.context_words(kind, language))))

    filler = _filler(language)
    # SSN and ITIN: 3-2-4 digits; with one separator used throughout (dash, dot or space) the shape says it all
    # (see _ssn), while none, a mixed or an odd grouping ("911-701234") needs a context word.
    ssn_shape = re.compile(
        r"(?<![\w-])(?P<v>[0-9]{3}[-. ]?[0-9]{2}[-. ]?[0-9]{4}|[0-9]{3}[-. ][0-9]{6}|[0-9]{5}[-. ][0-9]{4})(?![\w-])"
    )
    labels = label_pattern(lang.label_words(language))

    def nine_digits(kind: str, validate: Callable[[str], Verdict], pattern: re.Pattern) -> Detector:
        """A 9-digit number read from the digit runs (SSN, ITIN, SIN, routing): `validate` says whether its
        grouping suffices or a context word must back it; a label word says it is something else."""
        return Detector(
            kind,
            (),
            validate,
            run_patterns=(pattern,),
            min_digits=9,
            context=context(kind),
            labels=labels,
            shape=holds_window(9),
        )

    card = CardDetector(
        "CREDIT_DEBIT_NUMBER",
        (),
        context=context("CREDIT_DEBIT_NUMBER"),
        window=6,
        min_digits=12,
        labels=labels,
        claims=2,
    )
    expiry_weak = words(*lang.context_words("CREDIT_DEBIT_EXPIRY_WEAK", language))

    detectors = (
        card,
        # An IBAN's digits hold card-shaped windows: the IBAN, the stricter reading (country format, mod 97), claims
        # them before the card detector looks.
        IbanDetector("INTERNATIONAL_BANK_ACCOUNT_NUMBER", min_digits=2, claims=1),
        nine_digits("SSN", _ssn, ssn_shape),
        nine_digits("US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", _itin, ssn_shape),
        # 3-3-3 with spaces or dashes and Luhn: a SIN without a word; 9 bare digits only beside one.
        nine_digits(
            "CA_SOCIAL_INSURANCE_NUMBER",
            _sin,
            re.compile(r"(?<![\w-])(?P<v>[0-9]{3}(?P<sep>[-. ]?)[0-9]{3}(?P=sep)[0-9]{3})(?![\w-])"),
        ),
        Detector(
            "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
            (),
            _digits_check(check.nhs_ok),
            min_digits=10,
            run_patterns=(re.compile(r"(?<![\w-])(?P<v>[0-9]{3}(?P<sep>[- ]?)[0-9]{3}(?P=sep)[0-9]{4})(?![\w-])"),),
            context=context("UK_NATIONAL_HEALTH_SERVICE_NUMBER"),
            hints=hints("UK_NATIONAL_HEALTH_SERVICE_NUMBER"),
            shape=holds_window(10),
        ),
        # 2-2-2 or 3-3 digit grouping ("AB 12 34 56 C", "AZ 123 456 A"); a prefix HMRC never allocates (its own
        # example "QQ 12 34 56 A") only with a context word.
        Detector(
            "UK_NATIONAL_INSURANCE_NUMBER",
            (re.compile(r"\b(?P<v>[A-Za-z]{2} ?(?:[0-9]{2} ?[0-9]{2} ?[0-9]{2}|[0-9]{3} ?[0-9]{3}) ?[A-Da-d])\b"),),
            _nino,
            context=context("UK_NATIONAL_INSURANCE_NUMBER"),
            min_digits=6,
            shape=nino_shape,
            gate=(_LETTERS_DIGITS,),
        ),
        # 9 digits, or 4-4-1 as the check printed on a cheque groups it ("0711-0130-7").
        nine_digits(
            "BANK_ROUTING",
            _routing,
            re.compile(r"(?<![\w-])(?P<v>[0-9]{9}|[0-9]{4}(?P<sep>[-. ])[0-9]{4}(?P=sep)[0-9])(?![\w-])"),
        ),
        # 8-17 digits where the message speaks of an account; or right after the word "account" itself.
        Detector(
            "BANK_ACCOUNT_NUMBER",
            (_keyword_value(r"account|acct|" + keywords("BANK_ACCOUNT_NUMBER"), r"[0-9]{8,17}(?![\w-])", filler),),
            _account,
            min_digits=8,
            worded=True,
            run_patterns=(re.compile(r"(?<![\w-])[0-9]{8,17}(?![\w-])"),),
            context=context("BANK_ACCOUNT_NUMBER"),
            hints=("acc", "acct", "a/c", *hints("BANK_ACCOUNT_NUMBER")),
            window=6,
        ),
        # ICAO 9303: up to 9 letters and digits; here 6-9 holding at least 5 digits, right after a passport word.
        Detector(
            "PASSPORT_NUMBER",
            (_keyword_value(keywords("PASSPORT_NUMBER"), r"(?=(?:[A-Za-z]*[0-9]){5})[A-Za-z0-9]{6,9}\b", filler),),
            hints=hints("PASSPORT_NUMBER"),
            min_digits=5,
        ),
        # Licences after a licence word; and a DVLA number anywhere (its shape holds a birth date: checked).
        Detector(
            "DRIVER_ID",
            (_keyword_value(keywords("DRIVER_ID"), r"[A-Za-z]{0,2}[0-9][0-9A-Za-z-]{4,18}\b", filler),),
            _driver_id,
            min_digits=5,
            hints=hints("DRIVER_ID"),
        ),
        DvlaDetector("DRIVER_ID", min_digits=7, shape=dvla_shape),
        Detector(
            "AWS_ACCESS_KEY",
            (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),),
            hints=("akia", "asia", "abia", "acca"),
        ),
        Detector(
            "AWS_SECRET_KEY",
            (re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),),
            _aws_secret,
            context("AWS_SECRET_KEY"),
            hints=hints("AWS_SECRET_KEY"),
            window=8,
        ),
        _short_code(
            "CREDIT_DEBIT_CVV", r"[0-9]{3,4}", 3, keywords("CREDIT_DEBIT_CVV"), hints("CREDIT_DEBIT_CVV"), filler
        ),
        ExpiryDetector(
            "CREDIT_DEBIT_EXPIRY",
            (re.compile(rf"(?<!\w)(?P<v>{_MONTHS}\s*(?:'|20)?[0-9]{{2}})\b", re.IGNORECASE),),
            _expiry,
            context("CREDIT_DEBIT_EXPIRY"),
            hints=hints("CREDIT_DEBIT_EXPIRY", "CREDIT_DEBIT_EXPIRY_WEAK"),
            min_digits=2,
            run_patterns=(re.compile(rf"(?<![0-9/.-])(?P<v>(?:0?[1-9]|1[0-2])\s?[/.-]\s?{_YEAR2})(?![0-9/.-])"),),
            weak=expiry_weak,
            card=card.context,
        ),
        _short_code("PIN", r"[0-9]{4,12}", 4, keywords("PIN"), hints("PIN"), filler),
        Detector(
            "PASSWORD",
            (
                re.compile(
                    r"(?<![a-z0-9])(?:" + keywords("PASSWORD") + r")(?![a-z0-9])"
                    r"(?:\s+(?:is|was|es|est|é|ist|è)\s*:?|\s*[:=])\s*[\"']?(?P<v>[^\s\"']{4,64})",
                    re.IGNORECASE,
                ),
            ),
            _password,
            min_digits=0,
            hints=hints("PASSWORD"),
        ),
        Detector(
            "SWIFT_CODE",
            (re.compile(r"\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b"),),
            _bic,
            context("SWIFT_CODE"),
            min_digits=0,
            hints=hints("SWIFT_CODE"),
        ),
        Detector(
            "IP_ADDRESS",
            (
                re.compile(
                    r"(?<![\w.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?![\w.])"
                ),
                re.compile(r"(?<![\w:])(?P<v>(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w:])"),
            ),
            lambda v: _ipv6(v) if ":" in v else VALID,
            hints=(".", ":"),
        ),
        Detector(
            "EMAIL",
            (re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w])"),),
            min_digits=0,
            hints=("@",),
        ),
        Detector(
            "PHONE",
            # "/" is no phone separator: a phone never starts inside "12/28", which would leave "12/" visible.
            (
                re.compile(
                    r"(?<![\w+])(?<![0-9]/)(?P<v>(?:\+[0-9]{1,3}[ .-]?)?(?:\(0\)[ ]?)?(?:\([0-9]{1,4}\)[ .-]?)?"
                    r"[0-9]{1,12}(?:[ .-][0-9]{1,8}){0,5}(?:\s?(?:x|ext\.?)\s?[0-9]{1,5})?)(?![\w])",
                    re.IGNORECASE,
                ),
            ),
            _phone,
            context("PHONE"),
            window=5,
            min_digits=7,
        ),
    )
    assert tuple(dict.fromkeys(d.entity_type for d in detectors)) == ENTITY_TYPES
    return detectors


def _short_code(kind: str, value: str, digits: int, keywords: str, hints: tuple[str, ...], filler: str) -> Detector:
    """A short code (CVV, PIN) right after its word ("cvv: 123", "PIN number 4821") or named just after it
    ("123 is my CVV", "4821 es mi PIN")."""
    return Detector(
        kind,
        (
            _keyword_value(keywords, rf"{value}(?![0-9])", filler),
            re.compile(
                rf"(?<![\w/.-])(?P<v>{value})\s+(?:{_NAMING_VERBS})\s+(?:(?:{_NAMING_ARTICLES})\s+)?(?:{keywords})\b",
                re.IGNORECASE,
            ),
        ),
        hints=hints,
        min_digits=digits,
    )


# "123 is my CVV", "4821 es mi PIN", "123 est mon CVV", "4821 é o meu PIN", "4821 ist meine PIN", "123 è il mio CVV".
_NAMING_VERBS = "is|was|for|as|es|est|é|ist|è"
_NAMING_ARTICLES = "the|my|mi|mon|ma|o|meu|minha|mein|meine|il|mio"


@cache
def _filler(language: str) -> str:
    """Filler between a keyword and its value: "pin is 1234", "PIN number: 1234", "passeport n° X", "Nr. X"."""
    fillers = lang.prefix_tree(lang.filler_words(language))
    return rf"(?:[\s:=#?.,'\"-]*(?:(?:{fillers})(?!\w)|=|:|#))*[\s:=#?.,'\"-]*"


# (detector, its min digits, its hint words, its gate, its run shape): what the per-message loop reads.
_Step = tuple[Any, int, Any, Any, Any]
_Rest = tuple[Any, Any, Any, Any]  # (detector, its hint words, its gate, its run shape), digits already checked


class _Pick(NamedTuple):
    """The detectors worth asking about a text with a given number of digits left (`DetectorSet._rest`)."""

    hint_words: HintWords | None  # their hint words, searched only for them: None if none needs one
    unhinted: tuple[_Rest, ...]  # those asked when the text holds none of those words
    every: tuple[_Rest, ...]  # those asked when it holds some


@dataclass(frozen=True)
class DetectorSet:
    """The detectors for a set of entity types, run together over one normalised text."""

    detectors: tuple[Detector, ...] = field(default_factory=all_detectors)
    # Derived in __post_init__ (see there); not compared, not shown.
    _plan: tuple[_Step, ...] = field(init=False, repr=False, compare=False)
    _claiming: tuple[_Step, ...] = field(init=False, repr=False, compare=False)
    _rest: tuple[_Pick, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # What each detector needs before its patterns are worth running, flattened once: the per-message
        # loop below then costs a few comparisons per detector instead of a method call.
        ordered = sorted(self.detectors, key=lambda d: (not d.claims, d.claims))  # claiming detectors first, in order
        # Hints as HintWords searches them (lower case), so a detector and the search always agree on a word.
        plan = tuple((d, d.min_digits, frozenset(h.lower() for h in d.hints), d.gate, d.shape) for d in ordered)
        object.__setattr__(self, "_plan", plan)
        claiming = tuple(step for step in plan if step[0].claims)
        assert all(step[4] is None for step in claiming), "a claiming detector changes the runs a shape reads"
        assert not any(step[2] for step in claiming), "a claiming detector runs before the hint words are searched"
        rest = [step for step in plan if not step[0].claims]
        most = max((step[1] for step in rest), default=0)
        # Hint words are searched only for the detectors the digits leave worth asking: an IBAN or a card claims
        # most of a message's digits, and then only a few detectors' words (a password's) are worth a search. One
        # search per message either way: the words of those detectors, over one prefix tree (hints.py).
        hint_words: dict[frozenset[str], HintWords] = {}

        def picked(digits: int) -> _Pick:
            steps = [(d, hints, gate, shape) for d, min_digits, hints, gate, shape in rest if min_digits <= digits]
            words = frozenset(hint for _, hints, _, _ in steps for hint in hints)
            if words and words not in hint_words:
                hint_words[words] = HintWords(words)
            unhinted = tuple(step for step in steps if not step[1])
            return _Pick(hint_words[words] if words else None, unhinted, tuple(steps))

        object.__setattr__(self, "_claiming", claiming)
        # _rest[digits left, capped at the most any detector needs]: the detectors worth asking.
        object.__setattr__(self, "_rest", tuple(picked(n) for n in range(most + 1)))

    @classmethod
    def for_types(cls, entity_types: Iterable[str], language: str = "en") -> DetectorSet:
        wanted = frozenset(entity_types)
        return cls(tuple(d for d in all_detectors(language) if d.entity_type in wanted))

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(d.entity_type for d in self.detectors)

    def detect(self, text: str) -> list[Detection]:
        """The detections in `text`, read as it is: normalised text (`normalize`) or plain ASCII digits."""
        return self.detect_scan(scan(text))

    def detect_scan(self, message: Scan, widened: bool = False) -> list[Detection]:
        """The detections in `message`; `widened`: each grown over the rest of its number (widening.py), as
        masking will grow it."""
        found = self._detect_once(message)
        if not found:  # most messages: nothing found, so no neighbour to unmask
            return found
        # Our own masks from an earlier redaction are never (part of) an entity: "password: [PASSWORD]/[PHONE]"
        # holds no password, and a value read across masks would merge them into one on every redaction.
        masks = Coverage(len(message.text), message.masked) if message.masked else None
        if masks is not None:
            found = [d for d in found if not masks.touches(d.start, d.end)]
        # Find now what a second redaction of the masked text would find: an entity can stand alone only once
        # its neighbour is masked ("GB82 WEST ... 32 1 000000 12": a phone number after the IBAN). So redacting
        # redacted text never changes it. The masked text is judged as far as each mask will reach (widening.py),
        # or a group masking takes would still be read as part of a neighbouring number here.
        reach = widen_all(found, message.text)
        for _ in range(_MAX_EXTRA_PASSES):
            if not _digits_beside(message.text, reach):  # masking changes only neighbouring numbers
                break
            covered = [(d.start, d.end) for d in reach]
            coverage = Coverage(len(message.text), covered)
            again = self._detect_once(_as_masked(message, covered))
            new = [
                d
                for d in again
                if not coverage.touches(d.start, d.end) and (masks is None or not masks.touches(d.start, d.end))
            ]
            if not new:
                break
            found.extend(new)
            reach = widen_all(found, message.text)
        return reach if widened else found

    def _detect_once(self, message: Scan) -> list[Detection]:
        """Each detector whose cheap preconditions hold: enough digits, one of its hint words, its run shape, its
        gate (a gate shared by several detectors is searched once). The claiming detectors run first; the rest are
        picked from `_rest` by the digits left outside what those claimed and the hint words present."""
        text, lowered, digits, runs, _ = message
        found: list[Detection] = []
        gates: dict[re.Pattern, bool] = {}  # each gate pattern's answer, searched once
        unclaimed = digits  # digits outside what a claiming detector found
        claimed = None  # what a claiming detector found
        for detector, min_digits, _, gate, _ in self._claiming:  # (IBANs, cards: no hint words, no run shape)
            if unclaimed < min_digits:
                continue
            if gate and not _gate_passes(gate, text, gates, claimed):
                continue
            new = detector.find(text, lowered, runs)
            if new:
                found.extend(new)
                claimed = claimed or Coverage(len(text))
                for d in new:
                    if not claimed.touches(d.start, d.end):  # (overlapping claims: their digits are counted)
                        unclaimed -= digit_count(text[d.start : d.end])
                    claimed.add(d.start, d.end)
                runs = uncovered_runs(runs, claimed)
                gates = {}
        shaped = None  # the RunShape of `runs`, worked out on first need
        # Digits a claiming detector found are a checksum-validated number's: another entity needs its own.
        hint_words, unhinted, every = self._rest[min(unclaimed, len(self._rest) - 1)]
        present = hint_words.found_in(lowered) if hint_words is not None else _NO_HINTS
        for detector, hints, gate, shape in every if present else unhinted:
            if hints and present.isdisjoint(hints):  # (before the shape: a set test, and often no RunShape then)
                continue
            if shape is not None:
                if shaped is None:
                    shaped = RunShape(runs, unclaimed)
                if not shape(shaped):
                    continue
            if gate and not _gate_passes(gate, text, gates, claimed):
                continue
            new = detector.find(text, lowered, runs)
            if new:
                found.extend(new)
        return found


_NO_HINTS: frozenset[str] = frozenset()


class RunShape:
    """What a message's digit runs hold, worked out once for the detectors that ask (`Detector.shape`)."""

    __slots__ = ("glued", "groups", "short", "windows")

    def __init__(self, runs: list[tuple[int, str]], digits: int):
        """`digits`: how many the text holds outside what a claiming detector found."""
        self.groups: set[int] = set()  # the lengths of the runs' digit groups
        self.windows: set[int] = set()  # digits in consecutive groups of one run, _MIN_WINDOW to _MAX_WINDOW
        self.short = 0  # digits in runs of at most 6 digits
        in_runs = 0
        for _, run in runs:
            if run.isdigit():  # one group ("4111111111111111")
                self.groups.add(len(run))
                self.windows.add(len(run))
                in_runs += len(run)
                self.short += len(run) if len(run) <= 6 else 0
                continue
            lengths = list(map(len, _GROUP.findall(run)))
            total = sum(lengths)
            in_runs += total
            self.short += total if total <= 6 else 0
            self.groups.update(lengths)
            if total < _MIN_WINDOW:
                continue
            # Consecutive groups hold `size` digits when two prefix sums differ by it (they only increase).
            sums = set(accumulate(lengths, initial=0))
            for size in _WINDOW_SIZES:
                if not sums.isdisjoint(map(size.__add__, sums)):
                    self.windows.add(size)
        self.glued = digits - in_runs  # digits outside every run: glued to letters ("ES98", "MORGA753116SM9IJ")


_MIN_WINDOW, _MAX_WINDOW = 9, 10
_WINDOW_SIZES = range(_MIN_WINDOW, _MAX_WINDOW + 1)


def holds_window(count: int) -> Callable[[RunShape], bool]:
    """Some run holds consecutive digit groups of `count` digits in all ("123 45 6789", "0711-0130-7")."""
    assert _MIN_WINDOW <= count <= _MAX_WINDOW

    def holds(shape: RunShape) -> bool:
        return count in shape.windows

    return holds


def nino_shape(shape: RunShape) -> bool:
    """A NINO's six digits are glued to its letters ("AB123456C") or are whole runs between them ("AB 12 34 56 C",
    "AZ 123 456 A"): runs of at most six digits, and glued digits, hold six between them."""
    return shape.glued + shape.short >= 6


def dvla_shape(shape: RunShape) -> bool:
    """A DVLA number's six birth-date digits stand alone as a run ("MORGA 753116 SM9IJ") or are glued to its
    letters ("MORGA753116SM9IJ"), and its check digit is always glued ("SM9IJ")."""
    return shape.glued >= 7 or (shape.glued >= 1 and 6 in shape.groups)


def _gate_passes(
    gate: tuple[re.Pattern, ...], text: str, searched: dict[re.Pattern, bool], claimed: Coverage | None
) -> bool:
    """Each gate pattern matches somewhere outside what a claiming detector found ("DE89" opens an IBAN, and
    then no NINO)."""
    for pattern in gate:
        passed = searched.get(pattern)
        if passed is None:
            match = pattern.search(text)
            while match is not None and claimed is not None and claimed.touches(match.start(), match.end()):
                match = pattern.search(text, match.start() + 1)
            passed = searched[pattern] = match is not None
        if not passed:
            return False
    return True


_MAX_EXTRA_PASSES = 3
# A digit joined to a detection's number by a separator (SEP, at most 7 characters): digit runs are all that
# masking a detection changes for the detectors (a mask's brackets stop every keyword pattern and filler, and its
# blanked letters only remove context words), so without such a digit a second pass would find nothing new.
_JOINS_AFTER = re.compile(rf"{SEP}[0-9]")
_JOINS_BEFORE = re.compile(rf"[0-9]{SEP}\Z")  # searched up to the detection's start
_NEAR = 8  # characters: the widest SEP is 7


def _digits_beside(text: str, found: list[Detection]) -> bool:
    for d in found:
        if _JOINS_AFTER.match(text, d.end) or (
            d.start and _JOINS_BEFORE.search(text, max(0, d.start - _NEAR), d.start)
        ):
            return True
    return False


def _as_masked(message: Scan, covered: list[tuple[int, int]]) -> Scan:
    """The message as it reads once `covered` is masked: same length, each span a bracketed token."""
    text, lowered = list(message.text), list(message.lowered)
    for start, end in covered:
        text[start:end] = "[" + "X" * (end - start - 2) + "]" if end - start >= 2 else "X"
        lowered[start:end] = " " * (end - start)
    masked_text = "".join(text)
    digits = digit_count(masked_text)
    runs = [(m.start(), m.group()) for m in _DIGIT_RUN.finditer(masked_text)] if digits else []
    return Scan(masked_text, "".join(lowered), digits, runs, message.masked + covered)


def uncovered_runs(runs: list[tuple[int, str]], covered: Coverage) -> list[tuple[int, str]]:
    """The digit runs with detected entities cut out: "4111 4111 10.0.0.1" holds the run "4111 4111" once the
    IP address is detected, exactly as its redacted form "4111 4111 [IP_ADDRESS]" does."""
    if not covered:
        return runs
    pieces: list[tuple[int, str]] = []
    for offset, run in runs:
        if not covered.touches(offset, offset + len(run)):
            pieces.append((offset, run))
            continue
        if covered.holds(offset, offset + len(run)):  # the usual case: the run is what was detected
            continue
        kept: list[tuple[int, int]] = []
        for match in _GROUP.finditer(run):
            start, end = match.start() + offset, match.end() + offset
            if covered.touches(start, end):
                if kept:
                    pieces.append((kept[0][0], run[kept[0][0] - offset : kept[-1][1] - offset]))
                    kept = []
            else:
                kept.append((start, end))
        if kept:
            pieces.append((kept[0][0], run[kept[0][0] - offset : kept[-1][1] - offset]))
    return pieces


class Scan(NamedTuple):
    """What every detector needs from one message, computed once: lower-cased text, digit count, digit runs."""

    text: str
    lowered: str
    digits: int
    runs: list[tuple[int, str]]  # (offset, run) for "4111 1111", "12/28", "555-0199"
    masked: list[tuple[int, int]] = []  # spans of our own mask tokens, from an earlier redaction


def scan(
    text: str,
    masks: re.Pattern | None = None,
    mask_hint: str = "",
    lowered: str | None = None,
    digits: int | None = None,
) -> Scan:
    """`masks` matches our own mask tokens: they are blanked for context words, so "[CREDIT_DEBIT_NUMBER]"
    never serves as the word "number" next to a digit group when already-masked text is redacted again.
    `lowered`: text.lower(), `digits`: digit_count(text), if the caller has them already."""
    if lowered is None:
        lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length when lower-cased; keep offsets aligned
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    masked: list[tuple[int, int]] = []
    if masks is not None and mask_hint in text:
        masked = [m.span() for m in masks.finditer(lowered)]
        if masked:
            lowered = masks.sub(lambda m: " " * len(m.group()), lowered)
    if digits is None:
        digits = digit_count(text)
    if not digits:
        return Scan(text, lowered, 0, [], masked)
    return Scan(text, lowered, digits, [(m.start(), m.group()) for m in _DIGIT_RUN.finditer(text)], masked)
