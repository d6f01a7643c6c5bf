"""The sandbox: time until `make run`'s page is ready, and how long the conversation takes to cross it.

Beside it, in the same run: plain `chalice local` starting alone (the floor for serving the app), and a
bare request through the front proxy (the floor for any round trip). Budgets: ready within 60 s (the
issue's promise for a fresh machine); an agent reply visible to the customer within 1 s at p50.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from sandbox.ports import Reservation  # noqa: E402

ROUNDS = 15
READY_BUDGET_S = 60.0
REPLY_BUDGET_MS = 1000.0


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def chalice_alone_seconds() -> float:
    reservation = Reservation()  # held until chalice has bound it (sandbox/ports.py)
    port = reservation.port
    env = {**clean_env(), "AWS_DEFAULT_REGION": "us-east-1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("chalice")),
            "local",
            "--stage",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-autoreload",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except requests.ConnectionError:
                time.sleep(0.02)
    finally:
        process.terminate()
        process.wait()
        reservation.release()


def start_sandbox() -> tuple[subprocess.Popen, dict, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0"],  # 0: a free port, named in the ready line
        cwd=PROJECT_DIR,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None  # stdout=PIPE above
    for line in process.stdout:
        if line.startswith('{"sandbox_ready"'):
            return process, json.loads(line)["sandbox_ready"], time.perf_counter() - started
    raise RuntimeError("the sandbox did not start")


def ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.005)


def main() -> None:
    baseline_start = chalice_alone_seconds()
    process, urls, ready = start_sandbox()
    base = urls["sandbox"].removesuffix("/sandbox/")
    rows = [
        ("`chalice local` alone: first /health (baseline)", f"{baseline_start:.1f} s"),
        ("`python -m sandbox`: ready (moto seeded, emulators, app, Lambda host)", f"{ready:.1f} s"),
    ]
    verdicts = [
        f"- {'PASS' if ready <= READY_BUDGET_S else 'MISS'}: ready in {ready:.1f} s "
        f"(budget {READY_BUDGET_S:.0f} s on a fresh machine)"
    ]
    try:
        session = requests.Session()
        proxied = []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            session.get(f"{base}/health", timeout=10)
            proxied.append(time.perf_counter() - t)
        rows.append(("GET /health through the front proxy (baseline), p50 / p99", "%.1f / %.1f ms" % ms(proxied)))

        verify = {"hub.mode": "subscribe", "hub.verify_token": "sandbox-verify-token", "hub.challenge": "1"}
        if session.get(f"{base}/webhook/messenger", params=verify, timeout=10).text != "1":
            verdicts.append("- SKIPPED: the webhook is not part of this build; no conversation figures")
        else:
            psid = "7000000000009999"
            webhook, replies = [], []
            for round_ in range(ROUNDS):
                t = time.perf_counter()
                answer = session.post(
                    f"{base}/sandbox/api/customer/message",
                    json={"psid": psid, "text": f"card 4111 1111 1111 1111 #{round_}"},
                    timeout=30,
                )
                webhook.append(time.perf_counter() - t)
                assert answer.json()["webhook_status"] == 200
                text = f"reply {uuid.uuid4().hex[:8]}"
                t = time.perf_counter()
                session.post(f"{base}/sandbox/api/agent/message", json={"text": text}, timeout=30)
                wait_for(
                    lambda: any(
                        e.get("text") == text
                        for e in session.get(f"{base}/sandbox/api/state", params={"psid": psid}, timeout=10).json()[
                            "customer"
                        ]
                    )
                )
                replies.append(time.perf_counter() - t)
            first, rest = webhook[0] * 1000, ms(webhook[1:])
            rows.append(
                (
                    "customer message: signed webhook until 200 (redacted, in Connect), first (new chat)",
                    f"{first:.0f} ms",
                )
            )
            rows.append(("customer message: follow-ups, p50 / p99", "%.1f / %.1f ms" % rest))
            reply_p50, reply_p99 = ms(replies)
            rows.append(
                (
                    "agent reply until the customer has it (stream, handler, Graph), p50 / p99",
                    f"{reply_p50:.1f} / {reply_p99:.1f} ms",
                )
            )
            verdicts.append(
                f"- {'PASS' if reply_p50 <= REPLY_BUDGET_MS else 'MISS'}: agent reply reaches the "
                f"customer in {reply_p50:.0f} ms at p50 (budget {REPLY_BUDGET_MS:.0f} ms)"
            )
    finally:
        process.terminate()
        process.wait()

    print("## Sandbox (`make run`)\n")
    print(f"{ROUNDS} rounds on 127.0.0.1; everything in separate processes as `make run` starts them.\n")
    print("| Measure | Result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
