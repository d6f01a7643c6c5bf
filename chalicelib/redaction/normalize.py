"""Normalise text for detection and map every detected span back to the original text.

Customers type numbers in many ways: full-width or Arabic-Indic digits, NBSP between groups, spelled out
("four one one one, double one, triple four oh nine", "quatre un un un", "vier eins eins eins" in the selected
language: languages.py), or with look-alike letters ("4111 l111 O111").
Detectors see one plain form; the mask is applied to the original characters, so nothing is rewritten
that the customer did not type.

`normalize(text)` returns a `Normalized` whose `span(start, end)` maps a half-open span of the normalised
text to the half-open span of the original text that produced it. The common case (ASCII text with no
number words and no look-alike letters in digit runs) is the identity and costs two regex scans.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import NamedTuple

from chalicelib.redaction import languages as lang

_WORDS_EN = lang.NUMBER_WORDS["en"]
# Homophones count as digits only inside a run of at least this many real number words (docs/reference/pii-validation.md).
_HOMOPHONES = {"for": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}
_MIN_HOMOPHONE_RUN = 4
# "o" alone is too common a letter to start or carry a run; it counts only between other number words.
_WEAK = {"o"}
# A run of number words must produce at least this many digits to be rewritten ("one of two" stays text).
_MIN_RUN_DIGITS = 3

_SEPARATOR = r"[\s,.\-/]+"


def _run_pattern(words: list[str]) -> re.Pattern:
    token = r"(?:" + "|".join(sorted(words, key=len, reverse=True)) + r"|\d+)"
    # The look-ahead on first letters lets the engine skip most positions cheaply (measured 2x faster).
    initials = "".join(sorted({w[0] for w in words}))
    return re.compile(rf"\b(?=[{initials}\d]){token}\b(?:{_SEPARATOR}{token}\b)+", re.IGNORECASE)


_TOKEN = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


class _Vocabulary(NamedTuple):
    """A language's number words (English's always included): customers switch to English digits often."""

    table: dict[str, str]  # word -> digit
    repeats: dict[str, int]  # "double", "doble", "doppio" -> 2
    weak: frozenset[str]  # also everyday words ("un", "ein", "sei"): digits only beside a strong number word
    # Strong number words, one of which must occur before the (large) run pattern is worth a search: one search
    # over their prefix tree (~1.5x faster than an `in` test each, with six languages' words).
    hints: re.Pattern[str]


@cache
def _vocabulary(language: str) -> _Vocabulary:
    table = dict(_WORDS_EN)
    repeats = dict(lang.REPEAT_WORDS["en"])
    weak = set(lang.WEAK_NUMBER_WORDS["en"]) | _LETTER_ZEROS
    if language != "en":
        table.update(lang.NUMBER_WORDS[language])
        repeats.update(lang.REPEAT_WORDS[language])
        weak |= lang.WEAK_NUMBER_WORDS[language]
    hints = re.compile(lang.prefix_tree(word for word in table if word not in weak))
    return _Vocabulary(table, repeats, frozenset(weak), hints)


@cache
def _runs(language: str) -> re.Pattern:
    """Compiled on first use (a spoken number is rare; the pattern is large)."""
    vocabulary = _vocabulary(language)
    words = [*vocabulary.table, *vocabulary.repeats]
    if language == "en":
        words += list(_HOMOPHONES)
    return _run_pattern([re.escape(w) for w in words])


# A spoken number has at least one strong word; "oh" and "o" count only beside one, in the same sequence.
_LETTER_ZEROS = frozenset({"oh", "o"})
# Look-alike letters inside digit runs: "4111 l111", "O12 345".
# A whole token of digits and look-alikes; possessive, so a long token that fails costs one pass, not n².
_LOOKALIKE = re.compile(r"(?<!\w)[0-9OoIl]++(?!\w)")
# A look-alike letter with a digit beside it, written letter-first: the engine tries a match at each character
# that can start one, and the text searched holds 3+ digits, which outnumber O, o, I and l (~2x faster than
# digit-first on the real-world corpus).
_LOOKALIKE_HINT = re.compile(r"[OoIl](?:(?=[0-9])|(?<=[0-9][OoIl]))")  # (ASCII digits: after _unicode_digits)
_LOOKALIKE_MAP = {"O": "0", "o": "0", "I": "1", "l": "1"}


class Normalized(NamedTuple):
    """Normalised text plus, per normalised character, the original span it came from."""

    text: str
    original: str
    starts: tuple[int, ...] | None = None  # None: identity mapping
    ends: tuple[int, ...] | None = None
    lowered: str | None = None  # text.lower(), when it was computed on the way
    digits: int | None = None  # how many digits `text` holds (`digit_count`), when counted on the way

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind normalised `[start, end)` (end exclusive, end > start)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def normalize(text: str, language: str = "en") -> Normalized:
    """`text` with digits in one plain ASCII form; spans map back with `Normalized.span`."""
    starts = ends = None
    plain = text
    if not text.isascii():
        plain, starts, ends = _unicode_digits(text)
    digits = _ascii_digit_count(plain)
    # A look-alike pair holds a digit; a token is read as a number with at least 3 real digits (`_fix_lookalikes`).
    if digits >= _MIN_LOOKALIKE_DIGITS and _LOOKALIKE_HINT.search(plain):
        plain = _LOOKALIKE.sub(_fix_lookalikes, plain)  # same length: the mapping is unchanged
        digits = _ascii_digit_count(plain)
    edits = []
    lowered = plain.lower()
    vocabulary = _vocabulary(language)
    if vocabulary.hints.search(lowered) is not None:
        edits = [edit for match in _runs(language).finditer(plain) for edit in _spelled_edits(match, vocabulary)]
    if not edits:
        if starts is None or ends is None:
            return Normalized(plain, text, None, None, lowered, digits)
        return Normalized(plain, text, tuple(starts), tuple(ends), lowered, digits)
    if starts is None or ends is None:
        starts, ends = list(range(len(text))), list(range(1, len(text) + 1))
    return _rewrite(text, plain, starts, ends, edits)


def digit_count(text: str) -> int:
    """How many digits (`\\d`) `text` holds. ASCII text (normalised text nearly always is): the bytes without their
    digits, ~6x cheaper than a regex."""
    if text.isascii():
        encoded = text.encode("ascii")
        return len(encoded) - len(encoded.translate(None, b"0123456789"))
    return sum(map(len, _DIGITS.findall(text)))


_DIGITS = re.compile(r"\d+")


def _ascii_digit_count(plain: str) -> int:
    """`digit_count` of text whose digits are all ASCII, as `_unicode_digits` leaves it (it turns every other
    decimal digit into one): over the UTF-8 bytes, accented text included (a regex costs ~3x more)."""
    encoded = plain.encode("utf-8", "surrogatepass")
    return len(encoded) - len(encoded.translate(None, b"0123456789"))


def _unicode_digits(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """Any Unicode decimal digit -> ASCII, any space -> " ", other compatibility forms via NFKC.

    Almost every such character becomes exactly one character (full-width digits, NBSP, emoji), and then the
    text keeps its length and offsets: one `translate` and no offset map (None, None).
    """
    if _CHANGING.search(text) is None:  # accented letters, quotes, currency signs only: nothing changes
        return text, None, None
    forms = {ord(char): _form(char) for char in set(_NON_ASCII.findall(text))}
    if all(len(form) == 1 for form in forms.values()):
        return text.translate(forms), None, None
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        for piece in forms.get(ord(char), char):
            chars.append(piece)
            starts.append(index)
            ends.append(index + 1)
    return "".join(chars), starts, ends


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A non-ASCII character NFKC or the digit and space rules may change. Latin-1 letters (French, Spanish, Portuguese,
# German and Italian text is full of them), typographic quotes, dashes and currency signs are their own form.
_CHANGING = re.compile(
    "[^\x00-\x7f\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u2018\u2019\u201c\u201d\u00ab\u00bb"
    "\u20ac\u00a3\u00a5\u00b0\u2013\u2014\u00e7]"
)


@lru_cache(maxsize=1024)  # one character at a time: a full-width digit, a space, an emoji
def _form(char: str) -> str:
    if unicodedata.decimal(char, None) is not None:
        return str(unicodedata.decimal(char))
    if char.isspace():
        return " "
    if unicodedata.category(char) == "No":  # superscripts, circled digits: not a typed number
        return char
    return unicodedata.normalize("NFKC", char) or char


_MIN_LOOKALIKE_DIGITS = 3


def _fix_lookalikes(match: re.Match) -> str:
    token = match.group(0)
    digits = sum(ch.isdigit() for ch in token)
    if digits >= _MIN_LOOKALIKE_DIGITS and digits * 2 > len(token) and _LOOKALIKE_HINT.search(token):
        return "".join(_LOOKALIKE_MAP.get(ch, ch) for ch in token)
    return token


# An edit replaces plain[start:end] with digits, each digit carrying the plain span of the word it came from.
_Edit = tuple[int, int, list[tuple[str, int, int]]]


def _rewrite(original: str, plain: str, starts: list[int], ends: list[int], edits: list[_Edit]) -> Normalized:
    chars: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    cursor = 0
    for start, end, pieces in edits:
        chars.append(plain[cursor:start])
        new_starts.extend(starts[cursor:start])
        new_ends.extend(ends[cursor:start])
        for digit, piece_start, piece_end in pieces:
            chars.append(digit)
            new_starts.append(starts[piece_start])
            new_ends.append(ends[piece_end - 1])
        cursor = end
    chars.append(plain[cursor:])
    new_starts.extend(starts[cursor:])
    new_ends.extend(ends[cursor:])
    return Normalized("".join(chars), original, tuple(new_starts), tuple(new_ends))


def _spelled_edits(match: re.Match, vocabulary: _Vocabulary) -> list[_Edit]:
    """Edits turning the spoken-number word sequences of a run into digits.

    Digit groups typed between the words keep their separators ("four one one one 1111 ..." becomes
    "4111 1111 ..."), so detectors still see the customer's grouping. A lone number word stays text ("use this
    one 4597 ..."): it is far more often a word, and whether it reads as a digit must not depend on other words
    of the run, which an earlier mask may have taken ("one 4111 ... four two" redacted twice).
    """
    offset = match.start()
    table, repeats, weak = vocabulary.table, vocabulary.repeats, vocabulary.weak
    tokens = [(m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(match.string, offset, match.end())]
    strong_words = sum(1 for token in tokens if token[2] in table and token[2] not in weak)
    allow_homophones = strong_words >= _MIN_HOMOPHONE_RUN
    sequences: list[list[tuple[int, int, str]]] = [[]]
    previous_word = _word_before(match.string, offset)
    for token in tokens:
        word = token[2]
        is_word = word in table or word in repeats or (allow_homophones and word in _HOMOPHONES)
        if is_word and not (word == "one" and not sequences[-1] and previous_word in _DETERMINERS):
            sequences[-1].append(token)
        elif sequences[-1]:
            sequences.append([])
        previous_word = word
    sequences = [seq for seq in (_trim(seq, repeats) for seq in sequences) if seq]
    digit_total = sum(len(t[2]) for t in tokens if t[2].isdigit())
    edits: list[_Edit] = []
    for sequence in sequences:
        if len(sequence) < 2:
            continue
        if all(token[2] in weak or token[2] in repeats for token in sequence):
            # "oh oh" (or "un une", "ein eine") counts as digits only beside a strong number word of its own
            # sequence: were a number word anywhere else enough (even the "one" of "phone" or of a mask token), its
            # reading would change with the text.
            continue
        pieces = _sequence_digits(sequence, table, repeats)
        if pieces is None:
            continue
        if len(pieces) + digit_total < _MIN_RUN_DIGITS:
            continue
        edits.append((sequence[0][0], sequence[-1][1], pieces))
    return edits


# "this one", "the one", "no one": the word is a pronoun, not a digit.
_DETERMINERS = frozenset(
    {
        "this",
        "that",
        "the",
        "which",
        "each",
        "every",
        "no",
        "any",
        "another",
        "other",
        "new",
        "old",
        "only",
        "last",
        "first",
        "next",
        "same",
        "a",
        "one",
        "someone",
    }
)
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\W*$")


def _word_before(text: str, offset: int) -> str:
    match = _WORD_BEFORE.search(text, max(0, offset - 24), offset)
    return match.group(1).lower() if match else ""


def _trim(tokens: list[tuple[int, int, str]], repeats: dict[str, int]) -> list[tuple[int, int, str]]:
    while tokens and (tokens[0][2] in _WEAK or tokens[0][2] in repeats):
        tokens = tokens[1:]
    while tokens and (tokens[-1][2] in _WEAK or tokens[-1][2] in repeats):
        tokens = tokens[:-1]
    return tokens


def _sequence_digits(
    tokens: list[tuple[int, int, str]], table: dict[str, str], repeats: dict[str, int]
) -> list[tuple[str, int, int]] | None:
    pieces: list[tuple[str, int, int]] = []
    repeat = 1
    for start, end, word in tokens:
        if word in repeats:
            repeat = repeats[word]
            continue
        value = table.get(word) or _HOMOPHONES.get(word)
        if value is None:
            return None
        if repeat == 1:
            pieces.append((value, start, end))  # every table value is one digit
        else:
            pieces.extend([(digit, start, end) for digit in value * repeat])
            repeat = 1
    return pieces or None
