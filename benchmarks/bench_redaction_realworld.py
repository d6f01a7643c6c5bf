"""`make bench`: PII redaction on values others published, in Connect's six chat languages, beside Presidio.

The corpus is benchmarks/data/realworld/ (sources and licences in its README): processors' test cards,
registry and authority examples, python-stdnum's and Presidio's test values, in chat templates for en, es, fr,
pt, de and it, cards also typed over 2-4 messages, and PII-free customer-service messages. Scoring is
tests/redaction/realworld_evaluation.py. Speed: every corpus message through the production redactor (`build_redactor`
with default settings, the message's language passed per call, card context kept per conversation). One
process, one thread: one core.

Run alone: `python benchmarks/bench_redaction_realworld.py` (or `python benchmarks/run_all.py realworld`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_redaction import _measure  # noqa: E402
from chalicelib import settings  # noqa: E402
from chalicelib.redaction.redactor import build_redactor  # noqa: E402
from tests.redaction import realworld_evaluation as rw  # noqa: E402

LEAK_BUDGET = 0.01
FREE_ALTERED_BUDGET = 0.02
SUITE_BUDGET = 0.95
THROUGHPUT_BUDGET = 40_000
P99_BUDGET_MS = 0.2


def corpus_conversations() -> list[tuple[str, list[str]]]:
    """Every corpus message as a one-message conversation, then the split-card conversations."""
    out = [(m.language, [m.text]) for m in rw.messages()]
    out.extend((c.language, list(c.texts)) for c in rw.split_conversations())
    return out


def measure_ours(conversations: list[tuple[str, list[str]]]) -> dict:
    redactor = build_redactor(settings.Settings(env={}).redaction, "inbound")
    epoch = 1_790_000_000.0

    def run_all():
        for language, texts in conversations:
            context = None
            for t, text in enumerate(texts):
                context = redactor.redact(text, context, epoch + 5 * t, language=language).context

    def calls():
        for language, texts in conversations:
            state = [None]
            for t, text in enumerate(texts):

                def call(text=text, t=t, state=state, language=language):
                    state[0] = redactor.redact(text, state[0], epoch + 5 * t, language=language).context

                yield call

    return _measure(run_all, calls, sum(len(texts) for _, texts in conversations))


def measure_presidio(conversations: list[tuple[str, list[str]]]) -> dict:
    from tests.redaction import evaluation as ev

    detect = ev.presidio_detect(ev.DEFAULT_TYPES)
    texts = [text for _, conversation in conversations for text in conversation]

    def run_all():
        for text in texts:
            detect(text)

    return _measure(run_all, lambda: ((lambda text=text: detect(text)) for text in texts), len(texts))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    reports = {"ours": rw.evaluate(rw.ours_engine())}
    suites = {"ours": rw.run_presidio_suite(rw.ours_for_type)}
    conversations = corpus_conversations()
    speeds = {"ours (redact + mask + context)": measure_ours(conversations)}
    try:
        from importlib.metadata import version

        reports["Presidio"] = rw.evaluate(rw.presidio_engine())
        suites["Presidio"] = rw.run_presidio_suite(rw.presidio_for_type)
        speeds["Presidio recognizers, called directly (detect only)"] = measure_presidio(conversations)
        peer = f"presidio-analyzer {version('presidio-analyzer')}, pattern recognizers only (no NLP model)"
    except ImportError:
        peer = "presidio-analyzer is not installed (see requirements-bench.txt): no peer figures in this run"

    ours, suite = reports["ours"], suites["ours"]
    messages = sum(len(texts) for _, texts in conversations)
    print("## PII redaction on real-world values (`benchmarks/bench_redaction_realworld.py`)\n")
    print(
        f"Peer: {peer}. Corpus: benchmarks/data/realworld/ ({ours.values:,} PII values in chat messages in "
        f"en, es, fr, pt, de, it, {ours.split.values} of them cards typed over 2-4 messages; {ours.free} PII-free "
        f"messages; {messages:,} messages in all). Fully masked: no letter or digit of the value visible (a split "
        "card: none after its first six). Leak: four consecutive digits visible, or for a card any digit outside "
        "the first six and last four.\n"
    )
    print(rw.corpus_table(reports))
    print("\nFully masked, by the language of the message:\n")
    print(rw.language_table(reports))
    print("\n### Presidio's own recognizer tests, run as a peer's test suite\n")
    print(
        f"Cases from presidio-analyzer's unit tests for our types (benchmarks/data/realworld/presidio_cases.jsonl); "
        f"a case passes when exactly the letters and digits of its expected values are masked. "
        f"{suite.excluded} positive cases Presidio itself scores below {rw.PRESIDIO_MIN_SCORE} without context "
        "are excluded.\n"
    )
    print(rw.suite_table(suites))
    print("\n### Speed on this corpus (one core)\n")
    print("| Engine | Messages/s (CPU) | Messages/s (wall) | p50 ms (CPU) | p99 ms (CPU) | p99 ms (wall) |")
    print("|---|---|---|---|---|---|")
    for name, speed in speeds.items():
        print(
            f"| {name} | {speed['per_second_cpu']:,.0f} | {speed['per_second_wall']:,.0f} | {speed['p50_ms']:.3f} | "
            f"{speed['p99_ms']:.3f} | {speed['p99_wall_ms']:.3f} |"
        )
    print(
        f"\nLoad average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (CPU time is the "
        "figure for one core, but a loaded machine inflates it too: compare engines measured in the same run)."
    )
    peer_speed = speeds.get("Presidio recognizers, called directly (detect only)")
    if peer_speed:
        ours_speed = speeds["ours (redact + mask + context)"]
        print(
            f"\nOurs: {ours_speed['per_second_cpu'] / peer_speed['per_second_cpu']:.1f}x the messages per second of "
            "Presidio's recognizers in this run, while also masking and keeping conversation context."
        )
    print()

    speed = speeds["ours (redact + mask + context)"]
    leak_rate = ours.leaked / ours.values
    print("### Budgets\n")
    print(
        f"- {verdict(ours.checksum_leaked == 0)}: {ours.checksum_leaked} leaks of checksum-validated types "
        "(cards, IBAN, SSN, ITIN, SIN, routing, NINO) (0 allowed)"
    )
    print(
        f"- {verdict(leak_rate <= LEAK_BUDGET)}: {ours.leaked} values leaked of {ours.values:,} ({leak_rate:.2%}; "
        f"<= {LEAK_BUDGET:.0%})"
    )
    print(
        f"- {verdict(ours.free_altered_rate <= FREE_ALTERED_BUDGET)}: {ours.free_altered_rate:.1%} of PII-free "
        f"messages altered (<= {FREE_ALTERED_BUDGET:.0%})"
    )
    print(
        f"- {verdict(suite.rate >= SUITE_BUDGET)}: {suite.rate:.1%} of Presidio's recognizer tests pass "
        f"(>= {SUITE_BUDGET:.0%})"
    )
    print(
        f"- {verdict(speed['per_second_cpu'] >= THROUGHPUT_BUDGET)}: {speed['per_second_cpu']:,.0f} messages/s on "
        f"one core (>= {THROUGHPUT_BUDGET:,})"
    )
    print(
        f"- {verdict(speed['p99_ms'] <= P99_BUDGET_MS)}: p99 {speed['p99_ms']:.3f} ms per message "
        f"(<= {P99_BUDGET_MS} ms)"
    )


if __name__ == "__main__":
    main()
