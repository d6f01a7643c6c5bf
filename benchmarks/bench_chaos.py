"""`make chaos` as a RESULTS.md section (issue 17): the sandbox under its default faults, 50 customers at once.

Runs `python -m sandbox.chaos` (what `make chaos` runs; it needs Debian's clamd like `make run`) and prints
its report as a Markdown section with one PASS/MISS line: 0 lost, 0 duplicated (both directions) and no
card digits beyond the BIN shown to an agent. `python benchmarks/run_all.py --update bench_chaos` splices it
into benchmarks/RESULTS.md; docs/reliability.md includes it. Always exits 0 (a failed run is a MISS line).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> int:
    from sandbox.chaos import render

    before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "chaos.json"
        run = subprocess.run(
            [sys.executable, "-m", "sandbox.chaos", "--json", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        report = json.loads(out.read_text()) if out.exists() else None
    print("## `make chaos`: 50 customers under injected faults (`benchmarks/bench_chaos.py`)\n")
    print(
        "Command: `make chaos` (default faults, seed 17); this section: "
        "`python benchmarks/run_all.py --update bench_chaos`, which runs it once. "
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {before} before the run "
        f"(2 shared cores), {load_average()} after.\n"
    )
    if report is None:
        print(f"- MISS: the run did not finish (exit {run.returncode}): {run.stderr.strip()[-300:]}")
        return 0
    print("```\n" + render(report) + "\n```\n")
    plan = report.get("fault_plan", {})
    print(
        "Faults: Connect 429 {connect_throttle:.0%}, 5xx {connect_5xx:.0%}, lost answer {connect_lost_answer:.0%}; "
        "DynamoDB throttling {dynamodb_throttle:.0%}, lost write answer {dynamodb_lost_answer:.0%}; Graph 5xx "
        "{graph_5xx:.0%}, timeout {graph_timeout:.0%} (delivered, answered after the client's 10 s); "
        "ConnectionToken lifetime {connection_ttl_seconds:.0f} s; SNS redelivers {sns_redelivery:.0%} of agent "
        "items; Meta redelivers {meta_redelivery:.0%} of webhook posts; {cdn_slow:.0%} of CDN downloads slow."
        "\n".format(**plan)
    )
    inbound, outbound = report["customer_to_agent"], report["agent_to_customer"]
    lost = inbound["lost"] + outbound["lost"]
    duplicated = inbound["duplicated"] + outbound["duplicated"]
    leaked = report["pii_visible_to_agent"]
    verdict = "PASS" if lost == duplicated == leaked == 0 else "MISS"
    print(
        f"- {verdict}: {lost} lost, {duplicated} duplicated, {leaked} conversation(s) with card digits beyond "
        "the BIN shown to an agent (budget: 0, 0, 0)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
