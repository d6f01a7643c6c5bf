"""The real-world redaction corpus (benchmarks/data/realworld/) and how an engine is scored on it.

Values others published (processors' test cards, registry and authority examples, python-stdnum's test
values, the values in Presidio's recognizer tests) are put into chat messages written for this project in
Amazon Connect's six chat languages; cards are also typed over several messages. PII-free messages hold
tracking numbers, ISBN/EAN/IMEI/ISIN, container ids, invoice and reservation numbers, dates, prices and
versions. See benchmarks/data/realworld/README.md for every source and its licence.

Scores, per engine:
- recall: a value counts when it is *fully masked* (no letter or digit of it visible); a card typed over
  several messages counts when no digit after the first six (the BIN, which PCI DSS allows) is visible;
- leaks: a value with at least four consecutive digits visible, or, for cards, any digit outside the first
  six and last four (PCI DSS display rule);
- PII-free messages altered: any mask at all;
- Presidio's own recognizer unit tests, as a peer's test suite: each case passes when the engine finds exactly
  the expected values (its spans may add separators or spaces, never a letter or digit).

Usable alone: `python tests/redaction/realworld_evaluation.py` prints the tables (ours only, unless presidio-analyzer is
importable).
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.redaction import evaluation as ev  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "realworld"
LANGUAGES = ("en", "es", "fr", "pt", "de", "it")
CARD = "CREDIT_DEBIT_NUMBER"
# Checksum-validated types: the budget allows no leak at all for these.
CHECKSUM_TYPES = (
    CARD,
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "SSN",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "BANK_ROUTING",
    "UK_NATIONAL_INSURANCE_NUMBER",
)
VALUE_TYPES = CHECKSUM_TYPES + ("BANK_ACCOUNT_NUMBER", "DRIVER_ID", "PASSPORT_NUMBER")
FREE_PER_KIND = 40  # python-stdnum holds hundreds of ISBNs and ISINs: a sample of each kind, spread evenly
PRESIDIO_MIN_SCORE = 0.5  # Presidio cases it scores below this without context are excluded (counted)

Span = tuple[str, int, int]


@dataclass(frozen=True)
class Value:
    kind: str
    value: str
    source: str


@dataclass(frozen=True)
class Message:
    """One customer message holding `value` at [start, end), or PII-free (value None)."""

    language: str
    text: str
    value: Value | None = None
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Conversation:
    """A value typed over several messages: `parts[i]` = (start, end) of its piece in `texts[i]`."""

    language: str
    texts: tuple[str, ...]
    parts: tuple[tuple[int, int] | None, ...]
    value: Value


# ---------------------------------------------------------------------------------------------- corpus


def _stable(*keys: str) -> int:
    return zlib.crc32("|".join(keys).encode())


def load_values() -> list[Value]:
    """Every PII value of the corpus, each once per type (first source named wins)."""
    values: list[Value] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str, source: str) -> None:
        if kind in VALUE_TYPES and (kind, value) not in seen:
            seen.add((kind, value))
            values.append(Value(kind, value, source))

    for source in json.loads((DATA / "cards.json").read_text(encoding="utf-8"))["sources"]:
        for value in source["values"]:
            add(CARD, value, source["name"])
    for source in json.loads((DATA / "examples.json").read_text(encoding="utf-8"))["sources"]:
        for value in source["values"]:
            add(source["type"], value, source["name"])
    for row in _jsonl("stdnum_values.jsonl"):
        if row["valid"]:
            add(row["type"], row["value"], row["source"])
    for case in load_presidio_cases():
        for start, end in case["expected"]:
            add(case["type"], case["text"][start:end], case["source"])
    return values


def _jsonl(name: str) -> Iterator[dict]:
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def load_templates() -> dict[str, dict]:
    templates = json.loads((DATA / "templates.json").read_text(encoding="utf-8"))
    templates.pop("about")
    return templates


def load_free_values() -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = defaultdict(list)
    for row in _jsonl("stdnum_values.jsonl"):
        if row["type"].startswith("free:") and row["valid"]:
            kinds[row["type"][5:]].append(row["value"])
    for source in json.loads((DATA / "pii_free.json").read_text(encoding="utf-8"))["sources"]:
        kinds[source["kind"]].extend(source["values"])
    sampled = {}
    for kind, values in kinds.items():
        step = max(1, len(values) // FREE_PER_KIND)
        sampled[kind] = values[::step][:FREE_PER_KIND]
    return sampled


def messages() -> list[Message]:
    """Each value in one template of each language; then the PII-free messages."""
    templates = load_templates()
    out: list[Message] = []
    for value in load_values():
        for language in LANGUAGES:
            choices = templates[language][value.kind]
            template = choices[_stable(value.value, language) % len(choices)]
            start = template.index("{v}")
            text = template.replace("{v}", value.value)
            out.append(Message(language, text, value, start, start + len(value.value)))
    out.extend(free_messages(templates))
    return out


_SLOT = re.compile(r"\{(\w+)\}")


def free_messages(templates: dict[str, dict] | None = None) -> list[Message]:
    templates = templates or load_templates()
    free_values = load_free_values()
    out: list[Message] = []
    for language in LANGUAGES:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for template in templates[language]["free"]:
            slots = _SLOT.findall(template)
            if not slots:
                out.append(Message(language, template))
            else:
                by_kind[slots[0]].append(template)
        for kind, kind_templates in by_kind.items():
            for value in free_values.get(kind, ()):
                template = kind_templates[_stable(value, language) % len(kind_templates)]
                out.append(Message(language, template.replace("{" + kind + "}", value)))
    return out


def split_conversations() -> list[Conversation]:
    """Every corpus card typed over several messages, in one language each (rotating), one split template each."""
    templates = load_templates()
    out: list[Conversation] = []
    cards = [v for v in load_values() if v.kind == CARD]
    for index, value in enumerate(cards):
        language = LANGUAGES[index % len(LANGUAGES)]
        choices = templates[language]["split"]
        template = choices[_stable(value.value, "split") % len(choices)]
        groups = _four_groups(re.sub(r"\D", "", value.value))
        texts: list[str] = []
        parts: list[tuple[int, int] | None] = []
        for line in template:
            slots = [int(n) for n in _SLOT.findall(line)]
            text = line
            for n in slots:
                text = text.replace("{%d}" % n, groups[n - 1], 1)
            if slots:
                marks = list(_SLOT.finditer(line))
                parts.append((marks[0].start(), len(text) - (len(line) - marks[-1].end())))
            else:
                parts.append(None)
            texts.append(text)
        out.append(Conversation(language, tuple(texts), tuple(parts), value))
    return out


def _four_groups(digits: str) -> list[str]:
    """The number cut into four groups the way a customer types it: fours, the rest in the last."""
    size = 4 if len(digits) <= 16 else 5
    return [digits[:size], digits[size : 2 * size], digits[2 * size : 3 * size], digits[3 * size :]]


def load_presidio_cases() -> list[dict]:
    return list(_jsonl("presidio_cases.jsonl"))


# ---------------------------------------------------------------------------------------------- scoring


def _covered(spans: Iterable[Span], length: int) -> bytearray:
    marks = bytearray(length)
    for _, start, end in spans:
        marks[max(0, start) : min(length, end)] = b"\x01" * (min(length, end) - max(0, start))
    return marks


@dataclass
class TypeResult:
    values: int = 0
    masked: int = 0
    leaked: int = 0

    @property
    def recall(self) -> float:
        return self.masked / self.values if self.values else 0.0


@dataclass
class CorpusReport:
    types: dict[str, TypeResult] = field(default_factory=lambda: defaultdict(TypeResult))
    languages: dict[str, TypeResult] = field(default_factory=lambda: defaultdict(TypeResult))
    split: TypeResult = field(default_factory=TypeResult)
    free: int = 0
    free_altered: int = 0
    misses: list[tuple[str, str]] = field(default_factory=list)  # (kind, message): for looking, never printed in bulk

    @property
    def values(self) -> int:
        return sum(t.values for t in self.types.values()) + self.split.values

    @property
    def leaked(self) -> int:
        return sum(t.leaked for t in self.types.values()) + self.split.leaked

    @property
    def checksum_leaked(self) -> int:
        return sum(self.types[k].leaked for k in CHECKSUM_TYPES) + self.split.leaked

    @property
    def free_altered_rate(self) -> float:
        return self.free_altered / self.free if self.free else 0.0


def _visible_digits(chars: list[tuple[str, bool]]) -> list[bool]:
    """For each digit of the value in order: is it visible?"""
    return [not masked for ch, masked in chars if ch.isdigit()]


def _leaks(kind: str, digits_visible: list[bool]) -> bool:
    if kind == CARD:
        return any(digits_visible[6 : len(digits_visible) - 4])
    run = 0
    for visible in digits_visible:
        run = run + 1 if visible else 0
        if run >= 4:
            return True
    return False


def score_message(report: CorpusReport, message: Message, spans: list[Span]) -> None:
    if message.value is None:
        report.free += 1
        report.free_altered += bool(spans)
        return
    marks = _covered(spans, len(message.text))
    chars = [(message.text[i], bool(marks[i])) for i in range(message.start, message.end)]
    full = all(masked for ch, masked in chars if ch.isalnum())
    leaked = _leaks(message.value.kind, _visible_digits(chars))
    for bucket in (report.types[message.value.kind], report.languages[message.language]):
        bucket.values += 1
        bucket.masked += full
        bucket.leaked += leaked
    if not full:
        report.misses.append((message.value.kind, message.text))


def score_conversation(report: CorpusReport, conversation: Conversation, spans_per_message: list[list[Span]]) -> None:
    chars: list[tuple[str, bool]] = []
    for text, part, spans in zip(conversation.texts, conversation.parts, spans_per_message):
        if part is None:
            continue
        marks = _covered(spans, len(text))
        chars.extend((text[i], bool(marks[i])) for i in range(*part))
    visible = _visible_digits(chars)
    report.split.values += 1
    report.split.masked += not any(visible[6:])
    report.split.leaked += _leaks(CARD, visible)
    if any(visible[6:]):
        report.misses.append(("split " + CARD, " | ".join(conversation.texts)))


# The engine interface: `start(language)` begins a conversation and returns `detect(text) -> spans`.
Engine = Callable[[str], Callable[[str], list[Span]]]


def evaluate(engine: Engine) -> CorpusReport:
    report = CorpusReport()
    for message in messages():
        score_message(report, message, engine(message.language)(message.text))
    for conversation in split_conversations():
        detect = engine(conversation.language)
        score_conversation(report, conversation, [detect(text) for text in conversation.texts])
    return report


def ours_engine(types: Iterable[str] = ev.DEFAULT_TYPES) -> Engine:
    """The production redactor (default settings: local engine, card context), one conversation per call."""
    from chalicelib.redaction.conversation import CardContextPolicy
    from chalicelib.redaction.redactor import RedactionContext, Redactor

    redactors = {
        language: Redactor(frozenset(types), language=language, card_context=CardContextPolicy())
        for language in LANGUAGES
    }
    epoch = 1_790_000_000.0

    def start(language: str) -> Callable[[str], list[Span]]:
        redactor = redactors[language]
        context: RedactionContext | None = None  # carried from message to message, as the session store does
        t = 0.0

        def detect(text: str) -> list[Span]:
            nonlocal context, t
            t += 5.0
            analysis = redactor.analyze(text, context, epoch + t)
            context = analysis.context
            return [(d.entity_type, d.start, d.end) for d in analysis.spans]

        return detect

    return start


def presidio_engine(types: Iterable[str] = ev.DEFAULT_TYPES) -> Engine:
    detect = ev.presidio_detect(types)
    return lambda language: detect


# ---------------------------------------------------------------------------------------------- Presidio's tests


@dataclass
class SuiteResult:
    cases: int = 0
    passed: int = 0
    excluded: int = 0
    failures: list[dict] = field(default_factory=list)
    per_type: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def rate(self) -> float:
        return self.passed / self.cases if self.cases else 0.0


def excluded_case(case: dict) -> bool:
    """A positive case Presidio itself scores below 0.5 (no context, no NLP): such a value is only a guess."""
    bounds = [b for b in case["scores"] if b is not None]
    return case["expected_len"] > 0 and bool(bounds) and max(bounds) < PRESIDIO_MIN_SCORE


def case_passes(case: dict, found: list[tuple[int, int]]) -> bool:
    """The redaction outcome the test asks for: exactly the letters and digits of the expected values are masked.

    Compared on letters and digits, not on offsets: a redactor masking "4012 8888 ... 1881 4012-8888-..." as one
    span, or a value without the space Presidio's pattern takes before it, hides the same characters."""
    text = case["text"]

    def alnum(spans) -> set[int]:
        return {i for start, end in spans for i in range(start, end) if i < len(text) and text[i].isalnum()}

    return alnum(found) == alnum(case["expected"])


def run_presidio_suite(detect_for_type: Callable[[str], Callable[[str], list[Span]]]) -> SuiteResult:
    result = SuiteResult()
    detectors: dict[str, Callable[[str], list[Span]]] = {}
    for case in load_presidio_cases():
        if excluded_case(case):
            result.excluded += 1
            continue
        kind = case["type"]
        if kind not in detectors:
            detectors[kind] = detect_for_type(kind)
        found = [(s, e) for k, s, e in detectors[kind](case["text"]) if k == kind]
        ok = case_passes(case, found)
        result.cases += 1
        result.passed += ok
        result.per_type[kind][0] += 1
        result.per_type[kind][1] += ok
        if not ok:
            result.failures.append({"type": kind, "text": case["text"], "expected": case["expected"], "found": found})
    return result


def ours_for_type(kind: str) -> Callable[[str], list[Span]]:
    from chalicelib.redaction.redactor import Redactor

    redactor = Redactor(frozenset({kind}), card_context=None)
    return lambda text: [(d.entity_type, d.start, d.end) for d in redactor.analyze(text).spans]


def presidio_for_type(kind: str) -> Callable[[str], list[Span]]:
    return ev.presidio_detect([kind])


# ---------------------------------------------------------------------------------------------- tables


def corpus_table(reports: dict[str, CorpusReport]) -> str:
    names = list(reports)
    lines = [
        "| Type | Values | " + " | ".join(f"{n} fully masked | {n} leaks" for n in names) + " |",
        "|" + "---|" * (2 + 2 * len(names)),
    ]
    first = reports[names[0]]
    for kind in VALUE_TYPES:
        count = first.types[kind].values
        if not count:
            continue
        cells = " | ".join(f"{reports[n].types[kind].recall:.1%} | {reports[n].types[kind].leaked}" for n in names)
        lines.append(f"| {kind} | {count} | {cells} |")
    cells = " | ".join(f"{reports[n].split.recall:.1%} | {reports[n].split.leaked}" for n in names)
    lines.append(f"| {CARD}, typed over 2-4 messages | {first.split.values} | {cells} |")
    total = " | ".join(
        f"**{sum(t.masked for t in reports[n].types.values()) + reports[n].split.masked}"
        f" ({(sum(t.masked for t in reports[n].types.values()) + reports[n].split.masked) / reports[n].values:.1%})**"
        f" | **{reports[n].leaked} ({reports[n].leaked / reports[n].values:.1%})**"
        for n in names
    )
    lines.append(f"| all values | {first.values} | {total} |")
    lines.append(
        "| PII-free messages altered | "
        + str(first.free)
        + " | "
        + " | ".join(f"{reports[n].free_altered} ({reports[n].free_altered_rate:.1%}) | —" for n in names)
        + " |"
    )
    return "\n".join(lines)


def language_table(reports: dict[str, CorpusReport]) -> str:
    names = list(reports)
    lines = [
        "| Language | Values | " + " | ".join(f"{n} fully masked" for n in names) + " |",
        "|" + "---|" * (2 + len(names)),
    ]
    for language in LANGUAGES:
        count = reports[names[0]].languages[language].values
        lines.append(
            f"| {language} | {count} | "
            + " | ".join(f"{reports[n].languages[language].recall:.1%}" for n in names)
            + " |"
        )
    return "\n".join(lines)


def suite_table(suites: dict[str, SuiteResult]) -> str:
    names = list(suites)
    kinds = sorted({k for s in suites.values() for k in s.per_type})
    lines = [
        "| Presidio recognizer tests for | Cases | " + " | ".join(f"{n} pass" for n in names) + " |",
        "|" + "---|" * (2 + len(names)),
    ]
    for kind in kinds:
        total = suites[names[0]].per_type[kind][0]
        lines.append(f"| {kind} | {total} | " + " | ".join(f"{suites[n].per_type[kind][1]}" for n in names) + " |")
    first = suites[names[0]]
    lines.append(
        f"| **all** | {first.cases} | "
        + " | ".join(f"**{suites[n].passed} ({suites[n].rate:.1%})**" for n in names)
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    reports = {"ours": evaluate(ours_engine())}
    suites = {"ours": run_presidio_suite(ours_for_type)}
    try:
        reports["Presidio"] = evaluate(presidio_engine())
        suites["Presidio"] = run_presidio_suite(presidio_for_type)
    except ImportError:
        print("(presidio-analyzer not installed: ours only)\n")
    print(corpus_table(reports))
    print()
    print(language_table(reports))
    print()
    print(suite_table(suites))
    print(
        f"\n{suites['ours'].excluded} positive cases excluded (Presidio scores them below {PRESIDIO_MIN_SCORE} "
        f"without context)."
    )
    if "--misses" in sys.argv:
        for kind, text in reports["ours"].misses:
            print(f"MISS {kind}: {text}")
        for failure in suites["ours"].failures:
            print(f"SUITE FAIL {failure}")


if __name__ == "__main__":
    main()
