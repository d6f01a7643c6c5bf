"""Card numbers split across messages: what a conversation remembers, and what it masks because of it.

Customers send "4111 1111" and then "1111 1111", or one group per message. A forwarded fragment cannot
be recalled, so the rule is PCI DSS's display rule turned into a policy (docs/reference/pii-validation.md):

- a message that looks like the start of a card number (a 4-6 digit group in an issuer range leading a
  run that is grouped in fours, or in a message that is mostly digits or mentions a card) turns *card
  context* on, and is itself masked when it shows more than six digits (the BIN);
- a message that merely ends in such a group ("ok here goes 4111") turns on *soft* card context: the
  following messages are masked only if they are mostly digits ("5665", "then 1947 7414 9233");
- a validated card number, or a card prompt ("my card number is"), turns card context on too: the
  CVV, the expiry or the rest of the number usually follows;
- while card context is on, every digit run of 3+ digits (or any digits, in a message that is mostly
  digits) is masked; money amounts stay visible. Context lasts `PII_CARD_CONTEXT_SECONDS` and at most
  `PII_CARD_CONTEXT_MESSAGES` messages, renewed while the customer keeps sending messages that are mostly digits.

So an agent never sees more than the first six digits of a split number. The session keeps only the
expiry time and a message count (`RedactionContext`), never a digit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple, TypeVar

from chalicelib.redaction import checksums as check
from chalicelib.redaction import languages as lang
from chalicelib.redaction.detectors import Detection, Scan, label_pattern, labelled_before, uncovered_runs, words
from chalicelib.redaction.spans import Coverage

N = TypeVar("N", int, float)

FRAGMENT_VISIBLE_DIGITS = 6  # the BIN: PCI DSS allows first six + last four to be shown
HARD, SOFT = "hard", "soft"  # card context: mask every digit run / only messages that are mostly digits
_GROUP = re.compile(r"[0-9]+")
_EXPIRY_SHAPE = re.compile(r"^(?:0?[1-9]|1[0-2])\s*[/.-]\s*(?:20)?[0-9]{2}$")
_MONTH_YEAR = re.compile(
    r"(?<!\w)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*(?:'|20)?[0-9]{2}(?![0-9])",
    re.IGNORECASE,
)
# Amounts stay readable in card context: "$25.00", "25.99 EUR", "USD 1,200".
_AMOUNT_BEFORE = re.compile(r"(?:[$€£¥₹]|usd|eur|gbp|cad|aud)\s?$", re.IGNORECASE)
_AMOUNT_SHAPE = re.compile(r"^[0-9]{1,3}(?:[.,][0-9]{3})*[.,][0-9]{2}$")
# Words that make a digit run the likely start of a card number; alone (no digits) they arm card context.
_CARD_PROMPT_WORDS = ("card", "cc", "starts with", "begins with", "first digits", "first part", "first half")
_CARD_PROMPT_ALONE_WORDS = {
    "en": (
        "card number",
        "card no",
        "card #",
        "card num",
        "card digits",
        "number on my card",
        "number on the card",
        "cc number",
    ),
    "es": ("número de tarjeta", "numero de tarjeta", "número de la tarjeta", "numero de la tarjeta"),
    "fr": ("numéro de carte", "numero de carte", "numéro de la carte", "numero de la carte"),
    "pt": ("número do cartão", "numero do cartao", "número de cartão", "numero de cartao"),
    "de": ("kartennummer", "nummer der karte", "nummer meiner karte"),
    "it": ("numero della carta", "numero di carta", "numero carta"),
}


class _Words(NamedTuple):
    prompt_hints: tuple[str, ...]  # cheap substrings: no card prompt without one of these
    card_prompt: re.Pattern  # a card word: a digit run beside it may start a card number
    card_prompt_alone: re.Pattern  # "card number" with no digits: the number follows
    labels: re.Pattern  # "invoice", "reservation", "build" just before a number: it is something else


@cache
def _words(language: str) -> _Words:
    card = lang.CONTEXT["CREDIT_DEBIT_NUMBER"]
    own = card.get(language, ()) if language != "en" else ()
    # Card-brand and card words only: "pay with" or "charge" say a payment, not that digits start a card.
    nouns = tuple(w for w in own if not any(verb in w for verb in _PAYMENT_VERBS))
    alone = _CARD_PROMPT_ALONE_WORDS["en"] + (_CARD_PROMPT_ALONE_WORDS.get(language, ()) if language != "en" else ())
    prompt = _CARD_PROMPT_WORDS + nouns
    return _Words(
        lang.hints_of(prompt) + lang.hints_of(alone),
        words(*prompt),
        words(*alone),
        label_pattern(lang.label_words(language)),
    )


_PAYMENT_VERBS = (
    "cobr",
    "pagar",
    "pago",
    "débit",
    "debit",
    "payer",
    "paiement",
    "pagamento",
    "abbuch",
    "buchen",
    "bezahl",
    "zahl",
    "belast",
    "addebit",
    "cárgu",
    "credit",
    "crédit",
    "crédito",
    "débito",
)


@dataclass(frozen=True, init=False)
class RedactionContext:
    """Per-conversation redaction state. Holds no PII: only flags, counts and timestamps."""

    card_context_until: float  # epoch seconds; card context is on before this time ...
    card_messages_left: int  # ... and for at most this many more customer messages
    redacted_messages: int  # how many messages of this conversation had something masked
    card_context_soft: bool  # a possible first fragment only: mask just messages that are mostly digits

    def __init__(
        self,
        card_context_until: float = 0.0,
        card_messages_left: int = 0,
        redacted_messages: int = 0,
        card_context_soft: bool = False,
    ):
        # Made for most messages: filling the instance dict directly costs half what the generated frozen
        # __init__ does (an object.__setattr__ call per field). Still frozen: assigning an attribute later raises.
        fields = self.__dict__
        fields["card_context_until"] = card_context_until
        fields["card_messages_left"] = card_messages_left
        fields["redacted_messages"] = redacted_messages
        fields["card_context_soft"] = card_context_soft

    def card_context_active(self, now: float) -> bool:
        return now < self.card_context_until and self.card_messages_left > 0

    def counted(self) -> RedactionContext:
        """This context after one more message had something masked (dataclasses.replace costs ~10x more)."""
        return RedactionContext(
            self.card_context_until, self.card_messages_left, self.redacted_messages + 1, self.card_context_soft
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "card_context_until": int(self.card_context_until),
            "card_messages_left": int(self.card_messages_left),
            "redacted_messages": int(self.redacted_messages),
            "card_context_soft": bool(self.card_context_soft),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> RedactionContext:
        """Tolerates missing, old or malformed items: a bad value means "no context", never an error."""
        if not isinstance(item, Mapping):
            return cls()
        return cls(
            card_context_until=_number(item.get("card_context_until"), float),
            # Items written before this field existed carry only the time: treat them as fully armed.
            card_messages_left=_number(item.get("card_messages_left", 5 if "card_context_until" in item else 0), int),
            redacted_messages=_number(item.get("redacted_messages"), int),
            card_context_soft=item.get("card_context_soft") is True,
        )


def _number(value: Any, kind: Callable[[Any], N]) -> N:
    try:
        number = kind(value or 0)
    except (TypeError, ValueError, OverflowError):
        return kind(0)
    return number if number == number and number >= 0 else kind(0)  # NaN and negatives: no context


@dataclass(frozen=True)
class CardContextPolicy:
    seconds: int = 180
    messages: int = 5

    def apply(
        self, message: Scan, detections: list[Detection], context: RedactionContext, now: float, language: str = "en"
    ) -> tuple[list[Detection], RedactionContext]:
        """Extra detections for card fragments and card context, and the context after this message."""
        if self.seconds <= 0 or self.messages <= 0:
            return [], context
        vocabulary = _words(language)
        text = message.text
        active = context.card_context_active(now)
        cards = [d for d in detections if d.entity_type == "CREDIT_DEBIT_NUMBER"]
        if not message.digits:  # the common case: nothing to mask, maybe a card prompt to remember
            prompt = False
            for word in vocabulary.prompt_hints:
                if word in message.lowered:
                    prompt = vocabulary.card_prompt_alone.search(text) is not None
                    break
            return [], self._next(context, now, active, HARD if cards or prompt else None)
        # Built only when something is covered: most messages with digits have no detection at all.
        spans = [(d.start, d.end) for d in detections]
        covered = None
        extra: list[Detection] = []
        arm = HARD if cards else None
        after_card = cards[0].end if cards else None
        soft = active and context.card_context_soft
        if (active and not soft) or after_card is not None:
            for match in _MONTH_YEAR.finditer(text, after_card or 0):
                if covered is None:
                    covered = Coverage(len(text), spans)
                if not covered.touches(match.start(), match.start() + 1):
                    extra.append(Detection("CREDIT_DEBIT_EXPIRY", match.start(), match.end(), 0.8))
                    covered.add(*match.span())
        signs = None  # made on first need: most runs are not card-like and never ask
        # The digit runs nothing covers; when each run lies inside a detection (a card, an IBAN), no Coverage needed.
        runs = message.runs
        if covered is None and spans:
            if _all_inside(runs, spans):
                runs = []
            else:
                covered = Coverage(len(text), spans)
        if covered is not None:
            runs = uncovered_runs(runs, covered)
        for start, run in runs:
            end = start + len(run)
            groups = _GROUP.findall(run)
            if active or (after_card is not None and start >= after_card):
                if _is_amount(text, start, run):
                    continue
                signs = signs or _Signs(message.lowered, covered, vocabulary)
                fragment = signs.almost_all_digits if soft else signs.mostly_digits
                if fragment or (not soft and sum(map(len, groups)) >= 3):
                    extra.append(Detection(_label(run, groups), start, end, 0.8))
                    arm = HARD if fragment else arm  # only more card-like digits extend the context
            elif _card_start_shape(groups) and not _is_amount(text, start, run):  # the cheaper test first
                digits = sum(map(len, groups))
                issuer = check.issuer_prefix(groups[0][:6])
                grouped = _grouped_like_a_card(groups)
                # UATP cards start with 1, as years and amounts do: only typed in fours ("1220 0000") is it a start.
                if not (issuer or grouped and groups[0][0] == "1"):
                    signs = signs or _Signs(message.lowered, covered, vocabulary)
                    if not signs.card_word:  # any issuer, or none known, once the customer says "card"
                        continue
                signs = signs or _Signs(message.lowered, covered, vocabulary)
                if not signs.card_word and labelled_before(vocabulary.labels, message.lowered, start):
                    continue  # "invoice number 4471-0093": the message says what the number is
                if grouped or signs.mostly_digits or signs.card_word:
                    arm = HARD
                    if digits > FRAGMENT_VISIBLE_DIGITS:
                        extra.append(Detection("CREDIT_DEBIT_NUMBER", start, end, 0.8))
                elif (
                    issuer
                    and _ends_the_message(text, start, end, run)
                    and digits <= FRAGMENT_VISIBLE_DIGITS
                    and arm is None
                ):
                    arm = SOFT  # "ok here goes 4111": mask what follows only if it is mostly digits
        return extra, self._next(context, now, active, arm)

    def _next(self, context: RedactionContext, now: float, active: bool, arm: str | None) -> RedactionContext:
        if arm is not None:
            return RedactionContext(now + self.seconds, self.messages, context.redacted_messages, arm == SOFT)
        if active:
            return RedactionContext(
                context.card_context_until,
                context.card_messages_left - 1,
                context.redacted_messages,
                context.card_context_soft,
            )
        if context.card_context_until or context.card_messages_left:
            return RedactionContext(0.0, 0, context.redacted_messages)  # expired: forget it
        return context


def _all_inside(runs: list[tuple[int, str]], spans: list[tuple[int, int]]) -> bool:
    """Each run lies inside one of the spans (a message holds one or two of each: plain loops)."""
    for offset, run in runs:
        end = offset + len(run)
        for start, stop in spans:
            if start <= offset and end <= stop:
                break
        else:
            return False
    return True


def _card_start_shape(groups: list[str]) -> bool:
    """A run shaped like the first part of a card number: a 4-6 digit group leading 4-19 digits."""
    return 4 <= len(groups[0]) <= 6 and 4 <= sum(map(len, groups)) <= 19


def _ends_the_message(text: str, start: int, end: int, run: str) -> bool:
    """The customer stopped mid-number: "ok here goes 4111" and the rest follows in the next message.
    A code such as "XR-2531-04" or "ref 3534/27" is not typed like a card: it is glued on, or uses / or ."""
    if start > 0 and not text[start - 1].isspace() or "/" in run or "." in run:
        return False
    return not text[end:].strip(" .,;:!?…-")


def _grouped_like_a_card(groups: list[str]) -> bool:
    """ "4111 1111" or "4111-1111-1111": two or three groups of exactly four digits, the way cards are typed."""
    return 2 <= len(groups) <= 3 and all(len(g) == 4 for g in groups)


def _label(run: str, groups: list[str]) -> str:
    if _EXPIRY_SHAPE.match(run):
        return "CREDIT_DEBIT_EXPIRY"
    if len(groups) == 1 and len(groups[0]) == 3:
        return "CREDIT_DEBIT_CVV"
    return "CREDIT_DEBIT_NUMBER"


def _is_amount(text: str, start: int, value: str) -> bool:
    if ("." in value or "," in value) and _AMOUNT_SHAPE.match(value):
        return True
    before = text[max(0, start - 4) : start]
    return bool(before) and _AMOUNT_BEFORE.search(before) is not None


class _Signs:
    """What the message as a whole says, computed once and only if asked: how much of it is digits (not counting
    detected entities or earlier masks, so "jane@example.com 4111 1111" and its redacted "[EMAIL] 4111 1111"
    answer alike), and whether it mentions a card."""

    def __init__(self, lowered: str, covered: Coverage | None, vocabulary: _Words):
        self._lowered = lowered
        self._covered = covered
        self._vocabulary = vocabulary
        self._counts: tuple[int, int] | None = None
        self._card_word: bool | None = None

    def _digits_and_letters(self) -> tuple[int, int]:
        if self._counts is None:
            rest = self._covered.outside(self._lowered) if self._covered is not None else self._lowered
            self._counts = sum(map(str.isdigit, rest)), sum(map(str.isalpha, rest))
        return self._counts

    @property
    def mostly_digits(self) -> bool:
        digits, letters = self._digits_and_letters()
        return digits > 0 and letters < digits

    @property
    def almost_all_digits(self) -> bool:
        """Hardly any words: "5665", "then 1947 7414 9233", unlike "my phone is +44 20 4429 2178"."""
        digits, letters = self._digits_and_letters()
        return digits > 0 and letters <= 5 and 2 * letters <= digits

    @property
    def card_word(self) -> bool:
        if self._card_word is None:
            self._card_word = self._vocabulary.card_prompt.search(self._lowered) is not None
        return self._card_word
