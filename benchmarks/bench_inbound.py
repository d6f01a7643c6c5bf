"""Inbound webhook cost: the POST handler per message, and the cold import of app.py.

1. Per message, in-process, through Chalice's Lambda entry (`app(event, context)`) exactly as API Gateway
   invokes it: signature check, parse, redaction, session, dedupe and Connect calls with the adapters
   replaced by in-memory fakes (so the figure is our code, not DynamoDB's or Connect's latency). Baseline:
   a bare Chalice POST route, same event shape, same run. Budget: <= 2 ms p50 over the bare route.
2. Cold import in fresh processes (`python -X importtime`): `import app` against `import chalice, boto3`.
   Budget: <= 60 ms more.

Prints a Markdown section; exits 0 even on MISS.
"""

from __future__ import annotations

import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ITERATIONS = 3000
WARMUP = 300
IMPORT_RUNS = 7
PER_MESSAGE_BUDGET_MS = 2.0
IMPORT_BUDGET_MS = 60.0


def _stage_env() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    os.environ.update(config["environment_variables"])
    os.environ.update(config["stages"]["local"]["environment_variables"])
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def _event(path: str, body: bytes, headers: dict[str, str]) -> dict:
    """An API Gateway REST proxy event, as Lambda hands it to Chalice."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "isBase64Encoded": False,
        "body": body.decode(),
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "POST",
            "stage": "api",
            "requestId": "bench",
            "path": f"/api{path}",
            "identity": {"sourceIp": "127.0.0.1"},
        },
    }


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    return ordered[len(ordered) // 2] / 1e6, ordered[int(len(ordered) * 0.99)] / 1e6


def _measure(handler, make_event) -> tuple[float, float, float]:
    """p50 and p99 wall time, and p99 CPU time of this thread (on a shared machine the wall-time tail
    is mostly the scheduler handing the core to someone else for a 4 ms tick)."""
    sink = io.StringIO()
    wall, cpu = [], []
    with redirect_stdout(sink):  # log lines are formatted and written, to a buffer instead of the terminal
        for index in range(WARMUP + ITERATIONS):
            event = make_event(index)
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            response = handler(event, None)
            elapsed, elapsed_cpu = time.perf_counter_ns() - start, time.thread_time_ns() - start_cpu
            if response["statusCode"] != 200:
                raise SystemExit(f"benchmark request failed with {response['statusCode']}")
            if index >= WARMUP:
                wall.append(elapsed)
                cpu.append(elapsed_cpu)
            if index % 500 == 0:
                sink.seek(0)
                sink.truncate()
    return (*_percentiles(wall), _percentiles(cpu)[1])


def per_message() -> list[tuple[str, float, float, float]]:
    _stage_env()
    from chalice import Chalice

    import app as application
    from chalicelib.messaging import wiring
    from chalicelib.messaging.endpoint import MessengerWebhook
    from chalicelib.messaging.inbound import InboundMessages
    from chalicelib.messaging.meta.secrets import MessengerCredentials, MessengerSecrets
    from chalicelib.redaction.redactor import build_redactor
    from chalicelib.settings import load
    from tests.messaging.fakes import MemoryChat, MemoryDedupe, MemoryForwarder, MemorySessions
    from tests.messaging.fixtures import SECRET, body_of, envelope, sign, text_item

    class SecretsClient:
        def get_secret_value(self, SecretId):
            return {"SecretString": json.dumps(SECRET)}

    chat = MemoryChat()
    inbound = InboundMessages(
        MemorySessions(), MemoryDedupe(), chat, build_redactor(load().redaction), MemoryForwarder()
    )
    secrets = MessengerSecrets("bench", ttl_seconds=3600, client_factory=SecretsClient)
    assert isinstance(secrets.current(), MessengerCredentials)
    webhook = MessengerWebhook(secrets, lambda: inbound, 1024 * 1024)
    wiring.messenger_webhook = lambda settings: webhook  # the route's one call into messaging

    bare = Chalice(app_name="bare")

    @bare.route("/bare", methods=["POST"])
    def bare_route():
        return {"ok": True}

    text = "Hi, my card is 4111 1111 1111 1111 and I was charged twice for order 5521, can you help?"

    def webhook_event(case, psid_of):
        def make(index):
            body = body_of(envelope(text_item(text, mid=f"m_{case}_{index}", psid=psid_of(index))))
            return _event(
                "/webhook/messenger", body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
            )

        return make

    bare_body = body_of(envelope(text_item(text, mid="m_bare")))
    rows = [
        (
            "bare Chalice POST route (baseline)",
            *_measure(bare, lambda i: _event("/bare", bare_body, {"Content-Type": "application/json"})),
        )
    ]
    rows.append(
        (
            "webhook, follow-up message (existing chat)",
            *_measure(application.app, webhook_event("follow-up", lambda i: "psid-regular")),
        )
    )
    rows.append(
        (
            "webhook, first message (new chat every time)",
            *_measure(application.app, webhook_event("first", lambda i: f"psid-{i}")),
        )
    )
    assert len(chat.sent) == 2 * (WARMUP + ITERATIONS) and "4111" not in chat.sent[-1][1]
    return rows


def _import_ms(statement: str) -> float:
    """Cumulative import time (ms) of the top-level modules `statement` imports, in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], cwd=ROOT, capture_output=True, text=True
    )
    wanted = {name.strip() for name in statement.removeprefix("import ").split(",")}
    total = 0
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match and match.group(2).strip() in wanted and not match.group(2).startswith(" "):
            total += int(match.group(1))
    return total / 1000


def cold_import() -> tuple[float, float, float, bool]:
    apps, baselines, chalices = [], [], []
    _import_ms("import app")  # writes __pycache__ (a deployed package carries it), then every run reads it
    for _ in range(IMPORT_RUNS):  # alternate, so drift affects all alike
        apps.append(_import_ms("import app"))
        baselines.append(_import_ms("import chalice, boto3"))
        chalices.append(_import_ms("import chalice"))
    leaked = subprocess.run(
        [sys.executable, "-c", "import sys, app; print(sorted({'boto3', 'botocore', 'requests'} & set(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return statistics.median(apps), statistics.median(baselines), statistics.median(chalices), leaked == "[]"


def main() -> int:
    rows = per_message()
    app_ms, baseline_ms, chalice_ms, light = cold_import()
    bare_p50 = rows[0][1]
    lines = [
        "## Inbound webhook (`benchmarks/bench_inbound.py`)",
        "",
        f"Per message through `app(event, context)`, {ITERATIONS} requests after {WARMUP} warm-up; adapters are "
        "in-memory fakes, the signature, parser, redactor, use case, logging and Chalice routing are real. "
        f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        "| Case | p50 ms | p99 ms | p99 CPU ms | p50 over bare |",
        "|---|---|---|---|---|",
    ]
    for name, p50, p99, p99_cpu in rows:
        over = "" if name.startswith("bare") else f"{p50 - bare_p50:+.3f}"
        lines.append(f"| {name} | {p50:.3f} | {p99:.3f} | {p99_cpu:.3f} | {over} |")
    worst = max(row[1] for row in rows[1:]) - bare_p50
    lines += [
        "",
        f"- {'PASS' if worst <= PER_MESSAGE_BUDGET_MS else 'MISS'}: per-message p50 over the bare route "
        f"{worst:.3f} ms (budget {PER_MESSAGE_BUDGET_MS:.0f} ms)",
        "",
        f"Cold import, median of {IMPORT_RUNS} fresh processes (`python -X importtime`, cumulative):",
        "",
        "| Import | ms |",
        "|---|---|",
        f"| `import chalice, boto3` (baseline) | {baseline_ms:.1f} |",
        f"| `import chalice` alone | {chalice_ms:.1f} |",
        f"| `import app` (includes chalice) | {app_ms:.1f} |",
        "",
        f"- {'PASS' if app_ms - baseline_ms <= IMPORT_BUDGET_MS else 'MISS'}: `import app` is "
        f"{app_ms - baseline_ms:+.1f} ms against the baseline (budget +{IMPORT_BUDGET_MS:.0f} ms)",
        f"- {'PASS' if light else 'MISS'}: importing app.py loads no boto3, botocore or requests",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
