"""Outbound (Connect -> Messenger) costs, each beside its baseline measured in the same run.

1. Per-record cost of `connect_stream_handler` in-process (parse, route, session lookup, render, redact,
   dedupe, send) with the adapters replaced by in-memory fakes, beside a bare Chalice SNS handler that
   only reads its event. Budget: at most 2 ms p50 over the bare handler.
2. Peak memory while relaying a 20 MB customer attachment (download -> spool -> presigned PUT) through
   real HTTP on 127.0.0.1, beside a naive relay that reads the whole file into memory. Each runs in its
   own subprocess; peak RSS is measured above the process's own baseline after a warm-up relay.
   Budget: under 64 MiB above baseline.

Run: `make bench` (all) or `.venv/bin/python benchmarks/bench_outbound.py`.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.messaging.connect.attachments import SignedAttachment
    from chalicelib.messaging.meta.send_api import Delivery, SendResult
    from chalicelib.messaging.outbound import OutboundRelay
    from chalicelib.messaging.rendering import QuickReply

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ITERATIONS = 3000
WARMUP = 300
FILE_BYTES = 20 * 1000 * 1000  # "20 MB" as Connect counts it; ATTACHMENT_MAX_BYTES defaults to 20 MiB
LATENCY_BUDGET_MS = 2.0
MEMORY_BUDGET_MIB = 64.0


# ------------------------------------------------------------------------------------------------ latency


def _stage_env() -> None:
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"]["environment_variables"]
    os.environ.update(stage)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class CountingMessenger:
    """The Graph Send API (ports.CustomerMessenger): every send succeeds and is counted."""

    def __init__(self) -> None:
        self.sent = 0

    def send_text(
        self, psid: str, text: str, delivery: Delivery, quick_replies: Iterable[QuickReply] = ()
    ) -> SendResult:
        return self._sent()

    def send_attachment_url(self, psid: str, kind: str, url: str, delivery: Delivery) -> SendResult:
        return self._sent()

    def send_template(self, psid: str, attachment: dict, delivery: Delivery) -> SendResult:
        return self._sent()

    def send_typing(self, psid: str) -> SendResult:
        return self._sent()

    def _sent(self) -> SendResult:
        from chalicelib.messaging.meta.send_api import SendResult

        self.sent += 1
        return SendResult(delivered=True, message_id="m")


class NoAttachments:
    """ports.AttachmentUrls for cases without attachments: a call is a bench bug, and fails the run."""

    def signed_url(self, connection_token: str, attachment_id: str, expiry_seconds: int) -> SignedAttachment:
        raise AssertionError("the latency cases carry no attachment")


def _fake_relay(messenger: CountingMessenger) -> OutboundRelay:
    from chalicelib import settings
    from chalicelib.messaging.outbound import OutboundPolicy, OutboundRelay
    from chalicelib.messaging.store.sessions import ChatSession
    from chalicelib.redaction.redactor import build_redactor
    from tests.messaging.fakes import MemoryChat, MemoryDedupe, MemorySessions

    now = time.time()
    session = ChatSession(
        channel="messenger",
        customer_id="24000000000000001",
        contact_id="contact-bench",
        participant_token="p",
        connection_token="c",
        connection_expires_at=now + 3600,
        last_customer_message_at=now,
        expires_at=int(now + 86400),
    )
    sessions = MemorySessions()
    # The chat as the inbound path leaves it: a start claimed, then activated with the session.
    started = sessions.claim_start(session.channel, session.customer_id, "start", now, 30.0, None)
    if not (started and sessions.activate(session, "start", 1, now)):
        raise RuntimeError("the fake session store refused the bench's session")
    return OutboundRelay(
        sessions=sessions,
        dedupe=MemoryDedupe(),
        messenger=messenger,
        attachments=NoAttachments(),
        connection=MemoryChat(),  # a connection renewal or agent note would go here; none is expected
        redactor=build_redactor(settings.load().redaction, direction="outbound"),
        policy=OutboundPolicy(),
    )


_item_ids = itertools.count()  # unique across cases: a repeated id would be skipped by the dedupe log


def _events(content_type: str, content: str, role: str = "AGENT") -> list[dict]:
    from chalice import Chalice
    from chalice.test import TestEventsClient

    client = TestEventsClient(Chalice(app_name="bench-events"))  # only formats events; the app is not used
    events = []
    for _ in range(ITERATIONS + WARMUP):
        body = {
            "AbsoluteTime": "2026-01-01T00:00:00.000Z",
            "Id": f"item-{next(_item_ids)}",
            "Type": "MESSAGE",
            "ContentType": content_type,
            "Content": content,
            "ParticipantRole": role,
            "InitialContactId": "contact-bench",
            "ContactId": "contact-bench",
        }
        attributes = {
            "InitialContactId": "contact-bench",
            "ContactId": "contact-bench",
            "ParticipantRole": role,
            "Type": "MESSAGE",
            "ContentType": content_type,
            "MessageVisibility": "ALL",
            "InstanceId": "11111111-2222-3333-4444-555555555555",
            "AccountId": "123456789012",
        }
        events.append(
            client.generate_sns_event(
                json.dumps(body), message_attributes={k: {"Type": "String", "Value": v} for k, v in attributes.items()}
            )
        )
    return events


def _timed(handler, events) -> list[float]:
    from chalice.test import LambdaContext

    context = LambdaContext("connect_stream_handler", 128)
    for event in events[:WARMUP]:
        handler(event, context)
    samples = []
    for event in events[WARMUP:]:
        start = time.perf_counter_ns()
        handler(event, context)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def _busy(event, context) -> int:
    total = 0
    for value in range(2000):
        total += value * value
    return total


def latency_rows() -> list[tuple[str, float, float]]:
    import logging

    from chalice import Chalice

    import app as application
    from chalicelib import logs
    from chalicelib.messaging import wiring

    _stage_env()
    logs.configure("INFO")
    logging.getLogger().handlers[0].setLevel(logging.WARNING)  # keep the report clean; events still built

    bare = Chalice(app_name="bare")

    @bare.on_sns_message(topic="bare-topic")
    def bare_handler(event):
        return len(event.to_dict()["Records"])

    messenger = CountingMessenger()
    relay = _fake_relay(messenger)
    wiring.outbound_relay = lambda settings: relay  # the handler's composition, with fakes behind it
    handler = application.app.handler_map["connect_stream_handler"]
    markdown = "**Your order** is on its way. Track it [here](https://example.com/t/1).\n- item one\n- item two\n" * 4
    agent_text = _events("text/plain", "Hello, I can help with that. One moment please.")
    every = ITERATIONS + WARMUP
    # (name, handler, events, sends expected): a case that stops sending measures an error path instead.
    cases: list[tuple[str, Callable[[dict, Any], object], list[dict], int]] = [
        ("bare Chalice SNS handler (baseline)", bare.handler_map["bare_handler"], _events("text/plain", "Hello"), 0),
        ("agent text/plain, 1 record", handler, agent_text, every),
        ("agent text/markdown, ~600 chars", handler, _events("text/markdown", markdown), every),
        ("customer echo (ignored)", handler, _events("text/plain", "my own words", role="CUSTOMER"), 0),
        ("control: pure-Python loop, no I/O (machine noise)", _busy, agent_text, 0),
    ]
    rows = []
    for name, function, events, sends in cases:
        before = messenger.sent
        samples = _timed(function, events)
        if messenger.sent - before != sends:
            raise SystemExit(f"{name}: {messenger.sent - before} messages sent, {sends} expected")
        quantiles = statistics.quantiles(samples, n=100)
        rows.append((name, statistics.median(samples), quantiles[98]))
    return rows


# ------------------------------------------------------------------------------------------------ memory


def _serve(directory: str) -> tuple[str, ThreadingHTTPServer]:
    """A local HTTP server: GET /file streams the test file from disk; PUT /upload reads and discards."""
    import shutil
    from http.server import BaseHTTPRequestHandler

    path = os.path.join(directory, "file.pdf")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            small = self.path == "/small"
            self.send_response(200)
            self.send_header("Content-Length", str(16 if small else os.path.getsize(path)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if small:
                self.wfile.write(b"%PDF-1.7\n" + b"x" * 7)
                return
            with open(path, "rb") as source:
                shutil.copyfileobj(source, self.wfile, 256 * 1024)

        def do_PUT(self):
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining > 0:
                remaining -= len(self.rfile.read(min(remaining, 256 * 1024)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def memory_rows() -> list[tuple[str, float, float, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "file.pdf"), "wb") as target:
            target.write(b"%PDF-1.7\n")
            block = os.urandom(1024 * 1024)
            written = 9
            while written < FILE_BYTES:
                chunk = block[: min(len(block), FILE_BYTES - written)]
                target.write(chunk)
                written += len(chunk)
        base, server = _serve(directory)
        try:
            for mode, label in (
                ("naive", "naive: read whole file, then PUT (baseline)"),
                ("streamed", "relay: streamed download -> spool -> streamed PUT"),
            ):
                result = subprocess.run(
                    [sys.executable, "-m", "benchmarks.outbound_relay_child", mode, base],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    timeout=120,
                )
                if result.returncode != 0:
                    raise RuntimeError(result.stderr[-2000:])
                figures = json.loads(result.stdout.strip().splitlines()[-1])
                rows.append(
                    (label, figures["baseline_mib"], figures["peak_mib"] - figures["baseline_mib"], figures["seconds"])
                )
        finally:
            server.shutdown()
    return rows


# ------------------------------------------------------------------------------------------------ report


def main() -> int:
    latency = latency_rows()
    memory = memory_rows()
    print("## Outbound: Connect -> Messenger (`benchmarks/bench_outbound.py`)\n")
    print(f"Per record, in-process, adapters faked; {ITERATIONS} events each after {WARMUP} warm-up.\n")
    print("| Handler | p50 ms | p99 ms |\n|---|---:|---:|")
    for name, p50, p99 in latency:
        print(f"| {name} | {p50:.3f} | {p99:.3f} |")
    bare_p50 = latency[0][1]
    worst = max(p50 for _, p50, _ in latency[1:-1]) - bare_p50
    verdict = "PASS" if worst <= LATENCY_BUDGET_MS else "MISS"
    print(
        f"\n{verdict}: outbound adds at most {worst:.3f} ms p50 over the bare SNS handler (budget {LATENCY_BUDGET_MS} ms)."
    )
    print("p99 follows the control row: on a shared machine it measures preemption, not our code.\n")
    print(
        f"Relaying a {FILE_BYTES / 1e6:.0f} MB file over HTTP on 127.0.0.1, each in a fresh subprocess "
        "(peak RSS above the process's own baseline).\n"
    )
    print("| Relay | baseline RSS MiB | peak above baseline MiB | seconds |\n|---|---:|---:|---:|")
    for name, baseline, above, seconds in memory:
        print(f"| {name} | {baseline:.1f} | {above:.1f} | {seconds:.2f} |")
    streamed = memory[-1][2]
    verdict = "PASS" if streamed < MEMORY_BUDGET_MIB else "MISS"
    print(f"\n{verdict}: the relay peaks {streamed:.1f} MiB above baseline (budget < {MEMORY_BUDGET_MIB:.0f} MiB).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
