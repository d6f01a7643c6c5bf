"""Adversarial cost per entry point (issue 17): the worst input families found, beside a benign input of
the same size measured in the same run. Each figure is the median of RUNS runs (CHEAP_RUNS for a cheap input) in one process.

The unit tests hold these costs with work counts (tests/adversarial/, tests/scanning/test_hostile_inputs.py);
this bench gives the wall-clock figures that docs/reliability.md quotes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})

RUNS = 3
CHEAP_MS, CHEAP_RUNS = 20.0, 21  # an input cheaper than this is timed more often: one sample is mostly noise
KiB = 1024
# message_processor and ivr_decryptor: their Lambda timeout is 5 s (.chalice/config.json); a budget of half of
# it (Connect waits at most 8 s for a flow's Lambda).
BUDGET_MS = {
    "attachment_scanner": 5000.0,
    "connect_stream_handler": 1000.0,
    "api_handler": 5000.0,
    "message_processor": 2500.0,
    "ivr_decryptor": 2500.0,
}


def median_ms(call: Callable[[], object]) -> float:
    times: list[float] = []
    while len(times) < (RUNS if not times or times[0] >= CHEAP_MS else CHEAP_RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@contextlib.contextmanager
def app_logs_swallowed() -> Iterator[None]:
    """The app's warnings (scan_decision, ivr_rejected, ...) are its normal behaviour, not this report. Nothing
    configures logging here, so logging's last resort would print each one to stderr: a NullHandler on the root
    takes them instead. Levels stay as they are: the same records are built, only their printing is gone."""
    root = logging.getLogger()
    sink = logging.NullHandler()
    root.addHandler(sink)
    try:
        yield
    finally:
        root.removeHandler(sink)


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


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
    cases: list[tuple[str, str, Callable[[], object], Callable[[], object]]] = []
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
                partial(rendering.markdown_to_text, text),
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
    # The same family shaped for the cut: a run of dates that ends just before it (a letter), so the cut
    # keeps all of it and the redactor gets ~8,150 characters of dates, the most it can be handed.
    run = ("12/28/2026 " * 800)[:8150] + "x "
    shaped = (run * (size // len(run) + 1))[:size]
    words = ("please call me back about my order " * (size // 35 + 1))[:size]
    counter = iter(range(10**6))

    def deliver(text: str) -> object:
        inbound = InboundMessages(MemorySessions(), MemoryDedupe(), MemoryChat(), redactor, MemoryForwarder())
        return inbound.handle(parse_item(text_item(text, mid=f"m_{next(counter)}")))

    return [
        (
            "api_handler",
            "1 MiB text of `12/28/2026 ` (was 79 s: redacted whole, then cut; now one run: cut before it)",
            lambda: deliver(dates),
            lambda: deliver(words),
        ),
        (
            "api_handler",
            "1 MiB text of 8,150-character runs of `12/28/2026 ` ending in a letter (the cut keeps one whole run)",
            lambda: deliver(shaped),
            lambda: deliver(words),
        ),
    ]


def processor_cases() -> list[tuple[str, str, Callable[[], object], Callable[[], object]]]:
    """A customer message through the MESSAGE_PROCESSOR use case at web chat's largest (16,384 bytes; the
    context store left out: its round trips are bench_processor's). Dates are the redactor's worst family."""
    from tests.processor.helpers import event, processor

    handler = processor()
    size = 16 * KiB
    dates = ("12/28/2026 " * (size // 11 + 1))[:size]
    words = ("please call me back about my order " * (size // 35 + 1))[:size]
    return [
        (
            "message_processor",
            "16 KiB (web chat's largest message) of `12/28/2026 `",
            lambda: handler.process(event(dates)),
            lambda: handler.process(event(words)),
        )
    ]


def ivr_cases() -> list[tuple[str, str, Callable[[], object], Callable[[], object]]]:
    """The decryptor's use case as the entry point calls it (`decryptor.handle_event`), keys already loaded
    (the SSM read is the cold path's, `bench_ivr`). The worst input (tests/adversarial/test_ivr_cost.py) passes
    every pre-check and names the configured key, so it costs the one RSA-4096 unwrap, AES-GCM and the ECDSA
    verify before DECRYPT_FAILED; the benign input is the real ciphertext it was made from."""
    import base64

    from chalicelib.ivr.decryptor import Decryptor, handle_event
    from chalicelib.ivr.keys import KeyStore
    from tests.ivr.vectors import FIXTURE_DIR, FIXTURE_KEY_ID, FIXTURE_PLAINTEXT, flow_event

    pem = (FIXTURE_DIR / "test.private.key").read_bytes()
    decryptor = Decryptor(
        KeyStore(lambda: {FIXTURE_KEY_ID: pem}, ttl_seconds=900, refresh_min_seconds=10),
        max_ciphertext_chars=4096,
        return_value=True,
    )
    real = (FIXTURE_DIR / "ciphertext.b64").read_text().strip()
    raw = bytearray(base64.b64decode(real))
    raw[-1] ^= 0x01  # the last signature byte
    forged, legitimate = flow_event(base64.b64encode(bytes(raw)).decode()), flow_event(real)
    assert handle_event(legitimate, lambda: decryptor).get("Value") == FIXTURE_PLAINTEXT  # loads the key
    assert handle_event(forged, lambda: decryptor).get("Reason") == "DECRYPT_FAILED"
    return [
        (
            "ivr_decryptor",
            "the real ciphertext with its last signature byte altered (one RSA unwrap, AES-GCM, ECDSA verify)",
            lambda: handle_event(forged, lambda: decryptor),
            lambda: handle_event(legitimate, lambda: decryptor),
        )
    ]


def main() -> int:
    rows = []
    load_before = load_average()
    with app_logs_swallowed():
        cases = scanner_cases() + markdown_cases() + webhook_cases() + processor_cases() + ivr_cases()
        for entry, label, worst, benign in cases:
            worst_ms, benign_ms = median_ms(worst), median_ms(benign)
            budget = BUDGET_MS[entry]
            rows.append(
                f"| `{entry}` | {label} | {worst_ms:.1f} | {benign_ms:.1f} | "
                f"{'PASS' if worst_ms <= budget else 'MISS'} (< {budget:.0f} ms) |"
            )
    print("## Adversarial inputs (issue 17)\n")
    print(
        "Command: `python benchmarks/bench_adversarial.py` (part of `make bench`). Wall-clock milliseconds, median "
        f"of {RUNS} runs ({CHEAP_RUNS} for an input under {CHEAP_MS:.0f} ms), one process. Load average "
        f"{load_before} before the run, {load_average()} after ({os.cpu_count()} CPUs, shared).\n"
    )
    print("| Entry point | Worst input found | Worst ms | Benign, same size, ms | Budget |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
