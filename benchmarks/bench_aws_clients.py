"""AWS clients on a cold start: what building one Lambda's client set costs through `chalicelib.aws` (one boto3
session per process, ours) beside a session per client (baseline: what aws.py did before), in the same run.

Each sample is a fresh process: boto3 is imported first (not counted), then the Lambda's clients are built and
the CPU time of that step is recorded. No call is made; the credentials are dummies. Budget: for every Lambda with
more than one client, one session costs at most 3/4 of a session per client.

Run alone: `python benchmarks/bench_aws_clients.py` (or `python benchmarks/run_all.py --update bench_aws_clients`).
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks import fresh_process  # noqa: E402

RUNS = 9
BUDGET = 0.75

# The clients each Lambda builds on its first invocations (chalicelib's wiring modules).
LAMBDAS = {
    "attachment_scanner": ["s3", "rekognition"],
    "api_handler (Messenger webhook)": ["secretsmanager", "dynamodb", "connect", "connectparticipant"],
    "connect_stream_handler (agent replies)": ["dynamodb", "connectparticipant", "secretsmanager"],
    "message_processor": ["dynamodb"],
    "ivr_decryptor": ["ssm"],
}

_CHILD = r"""
import json, sys, time
import boto3
from botocore.config import Config
sys.path.insert(0, sys.argv[1])
from chalicelib import aws
services, mode = sys.argv[2].split(","), sys.argv[3]
start = time.process_time()
for service in services:
    if mode == "shared":
        aws.client(service)
    else:  # the baseline: a session per client, as aws.py built them before
        boto3.session.Session().client(
            service, config=Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5)
        )
print(json.dumps((time.process_time() - start) * 1000))
"""


def sample(services: list[str], mode: str) -> float:
    argv = [sys.executable, "-c", _CHILD, str(PROJECT_DIR), ",".join(services), mode]
    return fresh_process.sample(argv, {**os.environ, **fresh_process.DUMMY_AWS})


def main() -> None:
    print("## AWS clients on a cold start (`benchmarks/bench_aws_clients.py`)\n")
    print(
        f"CPU ms to build each Lambda's clients in a fresh process (boto3 already imported), median of {RUNS} runs, "
        "the two ways interleaved run by run.\n"
    )
    print("| Lambda | clients | one session (ours) | a session per client (baseline) |")
    print("|---|---:|---:|---:|")
    verdicts = []
    for name, services in LAMBDAS.items():
        ours, baseline = [], []
        for _ in range(RUNS):
            ours.append(sample(services, "shared"))
            baseline.append(sample(services, "per_client"))
        ours_ms, baseline_ms = statistics.median(ours), statistics.median(baseline)
        print(f"| `{name}` | {len(services)} | {ours_ms:.1f} | {baseline_ms:.1f} |")
        if len(services) > 1:
            verdicts.append((name, ours_ms, baseline_ms))
    print()
    for name, ours_ms, baseline_ms in verdicts:
        ok = ours_ms <= BUDGET * baseline_ms
        print(
            f"- {'PASS' if ok else 'MISS'}: `{name}` clients {ours_ms:.0f} ms <= 3/4 of a session per client "
            f"({baseline_ms:.0f} ms)"
        )


if __name__ == "__main__":
    main()
