"""Adversarial cost per entry point (issue 17): the worst input families found, beside a benign input of
the same size measured in the same run. Each figure is the median of RUNS runs on one core.

The unit tests hold these costs with work counts (tests/adversarial/, tests/scanning/test_hostile_inputs.py);
this bench gives the wall-clock figures that docs/reliability.md quotes.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})

RUNS = 3
KiB = 1024
BUDGET_MS = {"attachment_scanner": 5000.0, "connect_stream_handler": 1000.0, "api_handler": 5000.0}


def median_ms(call: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def scanner_cases() -> list[tuple[str, str, Callable[[], object], Callable[[], object]]]:
    from tests.scanning.helpers import decide

    tabs = b"a\t" + b"\t" * (64 * KiB) + b"b\r\n"
    row = b"2026-11-20,order-10042,Ana Lopez,-12.50,refund requested\r\n"
    benign_csv = row * (64 * KiB // len(row))
    fields = b"{\\rtf1 " + b"{\\fldinst " * (256 * KiB // 10) + b"}"
    benign_rtf = b"{\\rtf1 \\pard " + b"Lorem ipsum dolor sit amet. " * (256 * KiB // 28) + b"\\par}"
    return [
        (
            "attachment_scanner",
            "CSV, 64 KiB run of TABs (was 35 s)",
            lambda: decide("a.csv", tabs),
            lambda: decide("a.csv", benign_csv),
        ),
        (
            "attachment_scanner",
            "RTF, 256 KiB of `{\\fldinst ` (was 29 s)",
            lambda: decide("a.rtf", fields),
            lambda: decide("a.rtf", benign_rtf),
        ),
    ]


def markdown_cases() -> list[tuple[str, str, Callable[[], object], Callable[[], object]]]:
    from chalicelib.messaging import rendering

    size = 16 * KiB
    benign = ("Hello **there**, see [the guide](https://example.com/guide) and `code`.\n" * 400)[:size]
    cases = []
    for label, unit in (
        ("unclosed `**`", "**a "),
        ("unclosed `[a](b`", "[a](b"),
        ("unclosed `<http://`", "<http://a"),
        ("unclosed `*`", "*a "),
        ("unclosed `~~`", "~~a "),
    ):
        text = unit * (size // len(unit))
        cases.append(
            (
                "connect_stream_handler",
                f"markdown, 16 KiB of {label}",
                lambda text=text: rendering.markdown_to_text(text),
                lambda: rendering.markdown_to_text(benign),
            )
        )
    return cases


def webhook_cases() -> list[tuple[str, str, Callable[[], object], Callable[[], object]]]:
    """A customer's text through the inbound use case (in-memory adapters, the real redactor): what the
    webhook Lambda spends on it besides the network."""
    from chalicelib import settings
    from chalicelib.messaging.inbound import InboundMessages
    from chalicelib.messaging.meta.webhook import parse_item
    from chalicelib.redaction.redactor import build_redactor
    from tests.messaging.fakes import MemoryChat, MemoryDedupe, MemoryForwarder, MemorySessions
    from tests.messaging.fixtures import text_item

    redactor = build_redactor(settings.RedactionSettings.parse(settings._Reader({})))
    size = 1024 * KiB
    dates = ("12/28/2026 " * (size // 11 + 1))[:size]
    words = ("please call me back about my order " * (size // 35 + 1))[:size]
    counter = iter(range(10**6))

    def deliver(text: str) -> object:
        inbound = InboundMessages(MemorySessions(), MemoryDedupe(), MemoryChat(), redactor, MemoryForwarder())
        return inbound.handle(parse_item(text_item(text, mid=f"m_{next(counter)}")))

    return [
        (
            "api_handler",
            "1 MiB text of `12/28/2026 ` (was 79 s: redacted whole, then cut)",
            lambda: deliver(dates),
            lambda: deliver(words),
        )
    ]


def main() -> int:
    rows = []
    for entry, label, worst, benign in scanner_cases() + markdown_cases() + webhook_cases():
        worst_ms, benign_ms = median_ms(worst), median_ms(benign)
        budget = BUDGET_MS[entry]
        rows.append(
            f"| `{entry}` | {label} | {worst_ms:.1f} | {benign_ms:.1f} | "
            f"{'PASS' if worst_ms <= budget else 'MISS'} (< {budget:.0f} ms) |"
        )
    print("## Adversarial inputs (issue 17)\n")
    print(
        "Command: `python benchmarks/bench_adversarial.py` (part of `make bench`). Median of "
        f"{RUNS} runs, milliseconds.\n"
    )
    print("| Entry point | Worst input found | Worst ms | Benign, same size, ms | Budget |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
