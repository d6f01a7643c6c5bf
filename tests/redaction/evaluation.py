"""Recall and precision of the redaction engine, and of Presidio's pattern recognizers, on labelled data.

Two data sets:
- presidio-research's synthetic set v2 (benchmarks/data/presidio-synth/, 1,500 labelled sentences), its types
  mapped to Comprehend's as its README says;
- our chat set (tests/data/chat_set.jsonl): customer conversations with cards in every format, CVV, expiry,
  PIN, SSN, IBAN, spelled digits and numbers split across messages, plus PII-free conversations.

Scoring: a labelled span is *found* when a detection of the same type overlaps it (recall); a detection is
*correct* when it overlaps a labelled span of its type (precision). On the chat set we also count *leaks*:
labelled card/CVV/PIN/SSN/IBAN values with any digit left visible after masking, and PII-free messages
that were altered at all.

Used by tests/redaction/test_chat_set.py and benchmarks/bench_redaction.py (benchmarks import tests, never the
reverse). Usable on its own: `python tests/redaction/evaluation.py` prints the tables (ours only, unless
presidio-analyzer is importable).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.redaction.conversation import CardContextPolicy  # noqa: E402
from chalicelib.redaction.redactor import RedactionContext, Redactor  # noqa: E402
from chalicelib.settings import DEFAULT_PII_ENTITY_TYPES  # noqa: E402

PRESIDIO_SET = ROOT / "benchmarks" / "data" / "presidio-synth" / "synth_dataset_v2.json"
CHAT_SET = ROOT / "tests" / "data" / "chat_set.jsonl"

# presidio-research type -> Comprehend type (the data set's README).
PRESIDIO_TO_COMPREHEND = {
    "CREDIT_CARD": "CREDIT_DEBIT_NUMBER",
    "US_SSN": "SSN",
    "IBAN_CODE": "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_DRIVER_LICENSE": "DRIVER_ID",
    # Presidio recognizers that map onto our default (customer -> agent) types:
    "US_BANK_NUMBER": "BANK_ACCOUNT_NUMBER",
    "ABA_ROUTING_NUMBER": "BANK_ROUTING",
    "US_ITIN": "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT": "PASSPORT_NUMBER",
    "UK_NINO": "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_NHS": "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "CA_SIN": "CA_SOCIAL_INSURANCE_NUMBER",
}
PRESIDIO_SET_TYPES = (
    "CREDIT_DEBIT_NUMBER",
    "SSN",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "EMAIL",
    "PHONE",
    "IP_ADDRESS",
    "DRIVER_ID",
)
DEFAULT_TYPES = tuple(DEFAULT_PII_ENTITY_TYPES.split(","))
LEAK_TYPES = ("CREDIT_DEBIT_NUMBER", "CREDIT_DEBIT_CVV", "PIN", "SSN", "INTERNATIONAL_BANK_ACCOUNT_NUMBER")
ALLOWED_VISIBLE = "CARD_PREFIX"  # the first <= 6 digits of a split card (PCI DSS: the BIN may be shown)

Span = tuple[str, int, int]
Detect = Callable[[str], list[Span]]


# ---------------------------------------------------------------------------------------------- data


def load_presidio_set(path: Path = PRESIDIO_SET) -> list[tuple[str, list[Span]]]:
    records = json.loads(path.read_text(encoding="utf-8"))
    samples = []
    for record in records:
        spans = [
            (PRESIDIO_TO_COMPREHEND[s["entity_type"]], s["start_position"], s["end_position"])
            for s in record["spans"]
            if s["entity_type"] in PRESIDIO_TO_COMPREHEND
        ]
        samples.append((record["full_text"], spans))
    return samples


def load_chat_set(path: Path = CHAT_SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------- scoring


@dataclass
class TypeScore:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None


@dataclass
class Report:
    scores: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    leaked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    leak_total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    clean_messages: int = 0
    clean_altered: int = 0

    @property
    def clean_altered_rate(self) -> float:
        return self.clean_altered / self.clean_messages if self.clean_messages else 0.0


def _overlaps(a: Span, b: Span) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def score_message(report: Report, gold: Iterable[Span], predicted: Iterable[Span], types: Iterable[str]) -> None:
    types = set(types)
    gold = [g for g in gold if g[0] in types]
    predicted = [p for p in predicted if p[0] in types]
    for g in gold:
        report.scores[g[0]].gold += 1
        report.scores[g[0]].found += any(p[0] == g[0] and _overlaps(p, g) for p in predicted)
    for p in predicted:
        report.scores[p[0]].predicted += 1
        report.scores[p[0]].correct += any(p[0] == g[0] and _overlaps(p, g) for g in gold)


def visible_digits(text: str, span: Span, masks: Iterable[Span]) -> int:
    """Digits of `span` that no mask covers."""
    covered: set[int] = set()
    for _, start, end in masks:
        covered.update(range(start, end))
    return sum(1 for i in range(span[1], span[2]) if text[i].isdigit() and i not in covered)


def evaluate_presidio_set(detect: Detect, types: Iterable[str] = PRESIDIO_SET_TYPES) -> Report:
    report = Report()
    for text, gold in load_presidio_set():
        score_message(report, gold, detect(text), types)
    return report


def evaluate_chat_set(
    start_conversation: Callable[[], Callable[[str, float], list[Span]]], types: Iterable[str] = DEFAULT_TYPES
) -> Report:
    """`start_conversation()` returns a per-conversation detector `(text, t) -> spans` (it may keep context)."""
    report = Report()
    types = tuple(types)
    for conversation in load_chat_set():
        detect = start_conversation()
        for message in conversation["messages"]:
            text = message["text"]
            gold = [tuple(s) for s in message["spans"]]
            predicted = detect(text, float(message["t"]))
            score_message(report, [g for g in gold if g[0] != ALLOWED_VISIBLE], predicted, types)
            for g in gold:
                if g[0] in LEAK_TYPES:
                    report.leak_total[g[0]] += 1
                    report.leaked[g[0]] += visible_digits(text, g, predicted) > 0
            if conversation["category"] == "clean":
                report.clean_messages += 1
                report.clean_altered += bool(predicted)
    return report


# ---------------------------------------------------------------------------------------------- engines


def ours(types: Iterable[str], card_context: bool = False) -> Redactor:
    return Redactor(frozenset(types), card_context=CardContextPolicy() if card_context else None)


def ours_detect(types: Iterable[str]) -> Detect:
    redactor = ours(types)
    return lambda text: [(d.entity_type, d.start, d.end) for d in redactor.analyze(text).spans]


def ours_conversation(types: Iterable[str] = DEFAULT_TYPES) -> Callable[[], Callable[[str, float], list[Span]]]:
    redactor = ours(types, card_context=True)
    epoch = 1_790_000_000.0

    def start():
        context: RedactionContext | None = None  # carried from message to message, as the session store does

        def detect(text: str, t: float) -> list[Span]:
            nonlocal context
            analysis = redactor.analyze(text, context, epoch + t)
            context = analysis.context
            return [(d.entity_type, d.start, d.end) for d in analysis.spans]

        return detect

    return start


PRESIDIO_RECOGNIZERS = (
    "CreditCardRecognizer",
    "UsSsnRecognizer",
    "IbanRecognizer",
    "EmailRecognizer",
    "PhoneRecognizer",
    "IpRecognizer",
    "UsLicenseRecognizer",
    "UsBankRecognizer",
    "AbaRoutingRecognizer",
    "UsItinRecognizer",
    "UsPassportRecognizer",
    "UkNinoRecognizer",
    "NhsRecognizer",
    "CaSinRecognizer",
)


def _offline_tldextract(tldextract: Any) -> None:
    """Point `tldextract.extract` at an extractor that uses its bundled suffix list (a monkeypatch, hence setattr)."""
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())


def presidio_detect(types: Iterable[str]) -> Detect:
    """Presidio's own pattern recognizers, no NLP model: each recognizer's analyze(), duplicates removed.

    Score threshold 0, as AnalyzerEngine's default; context words cannot raise scores without an NLP model.
    Raises ImportError when presidio-analyzer is not installed.
    """
    import tldextract
    from presidio_analyzer import EntityRecognizer, RecognizerResult, predefined_recognizers

    # Presidio's e-mail check calls tldextract, which downloads the public suffix list; use its bundled copy.
    _offline_tldextract(tldextract)

    wanted = set(types)
    recognizers = []
    for name in PRESIDIO_RECOGNIZERS:
        recognizer = getattr(predefined_recognizers, name)()
        entities = [e for e in recognizer.supported_entities if PRESIDIO_TO_COMPREHEND.get(e) in wanted]
        if entities:
            recognizers.append((recognizer, entities))

    def detect(text: str) -> list[Span]:
        results: list[RecognizerResult] = []
        for recognizer, entities in recognizers:
            results.extend(recognizer.analyze(text, entities, None) or [])
        results = EntityRecognizer.remove_duplicates(results)
        return [(PRESIDIO_TO_COMPREHEND[r.entity_type], r.start, r.end) for r in results]

    return detect


def presidio_engine_detect(types: Iterable[str]) -> Detect:
    """The same recognizers behind Presidio's AnalyzerEngine, as deployed, with its NLP step stubbed out
    (no spaCy model: no tokens, lemmas or NER). Slower than calling the recognizers directly: the engine
    adds context enhancement, score filtering and de-duplication."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, predefined_recognizers
    from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

    _offline_tldextract(tldextract)

    class NoNlpEngine(NlpEngine):
        def load(self):
            pass

        def is_loaded(self):
            return True

        def get_supported_languages(self):
            return ["en"]

        def get_supported_entities(self):
            return []

        def process_text(self, text, language):
            # No spaCy Doc: an empty token list is all the pattern recognizers read (typed as a Doc by Presidio).
            no_tokens: Any = []
            return NlpArtifacts(
                entities=[], tokens=no_tokens, tokens_indices=[], lemmas=[], nlp_engine=self, language=language
            )

        def process_batch(self, texts, language, batch_size=1, n_process=1, **kwargs):
            for text in texts:
                yield text, self.process_text(text, language)

        def is_stopword(self, word, language):
            return False

        def is_punct(self, word, language):
            return False

    wanted = set(types)
    registry = RecognizerRegistry(supported_languages=["en"])
    entities = []
    for name in PRESIDIO_RECOGNIZERS:
        recognizer = getattr(predefined_recognizers, name)()
        mine = [e for e in recognizer.supported_entities if PRESIDIO_TO_COMPREHEND.get(e) in wanted]
        if mine:
            registry.add_recognizer(recognizer)
            entities.extend(mine)
    engine = AnalyzerEngine(registry=registry, nlp_engine=NoNlpEngine(), supported_languages=["en"])

    def detect(text: str) -> list[Span]:
        results = engine.analyze(text, language="en", entities=entities)
        return [(PRESIDIO_TO_COMPREHEND[r.entity_type], r.start, r.end) for r in results]

    return detect


def presidio_conversation(types: Iterable[str] = DEFAULT_TYPES):
    detect = presidio_detect(types)
    return lambda: lambda text, t: detect(text)


# ---------------------------------------------------------------------------------------------- tables


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def type_table(reports: dict[str, Report], types: Iterable[str]) -> str:
    names = list(reports)
    header = "| Type | Labelled | " + " | ".join(f"{n} recall | {n} precision" for n in names) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(names))]
    for kind in types:
        gold = max(reports[n].scores[kind].gold for n in names)
        if not gold and not any(reports[n].scores[kind].predicted for n in names):
            continue
        cells = " | ".join(
            f"{_fmt(reports[n].scores[kind].recall)} | {_fmt(reports[n].scores[kind].precision)}" for n in names
        )
        lines.append(f"| {kind} | {gold} | {cells} |")
    return "\n".join(lines)


def leak_table(reports: dict[str, Report]) -> str:
    names = list(reports)
    lines = ["| Chat set | " + " | ".join(names) + " |", "|" + "---|" * (1 + len(names))]
    for kind in LEAK_TYPES:
        total = max(reports[n].leak_total[kind] for n in names)
        lines.append(
            f"| {kind} values leaked (of {total}) | " + " | ".join(str(reports[n].leaked[kind]) for n in names) + " |"
        )
    clean = reports[names[0]].clean_messages
    lines.append(
        f"| PII-free messages altered (of {clean}) | "
        + " | ".join(f"{reports[n].clean_altered} ({reports[n].clean_altered_rate:.1%})" for n in names)
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    presidio_reports = {"ours": evaluate_presidio_set(ours_detect(PRESIDIO_SET_TYPES))}
    chat_reports = {"ours": evaluate_chat_set(ours_conversation())}
    try:
        presidio_reports["Presidio"] = evaluate_presidio_set(presidio_detect(PRESIDIO_SET_TYPES))
        chat_reports["Presidio"] = evaluate_chat_set(presidio_conversation())
    except ImportError:
        print("(presidio-analyzer not installed: ours only)\n")
    print("presidio-research synth v2\n")
    print(type_table(presidio_reports, PRESIDIO_SET_TYPES))
    print("\nchat set\n")
    print(type_table(chat_reports, DEFAULT_TYPES))
    print()
    print(leak_table(chat_reports))


if __name__ == "__main__":
    main()
