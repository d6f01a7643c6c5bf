"""Attachment downloads against a hostile CDN (issue 17): how long each slow-server pattern holds a webhook call.

A real TLS server on 127.0.0.1 (tests/adversarial/cdn_server.py) behind names only this bench resolves;
the production downloader (meta/cdn.py) with the tests' address policy (loopback allowed for this server only)
and the default webhook deadline, WEBHOOK_DEADLINE_SECONDS = 15 s, made once per "call" as the endpoint does.
The audit before issue 17 measured a trickling server holding a call 36 s (15 s per read, not in total) and a
`Retry-After: 24` being waited for. Wall-clock seconds: what Meta and the Lambda timeout see. Prints a Markdown
section with a PASS/MISS line per budget; always exits 0.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEADLINE_SECONDS = 15.0  # the setting's default
SLACK_SECONDS = 0.5  # a cut may finish the read in flight


def main() -> int:
    from chalicelib.messaging.deadline import Deadline
    from chalicelib.messaging.errors import MessagingError
    from chalicelib.messaging.meta.cdn import AttachmentDownloader
    from chalicelib.messaging.meta.download_policy import DownloadPolicy, HostList
    from tests.adversarial import cdn_server
    from tests.adversarial.cdn_server import HostileCdn, loopback_only_for_tests

    with tempfile.TemporaryDirectory() as directory:
        ca, chain, key = cdn_server.make_certificates(Path(directory))
        cdn = HostileCdn(chain, key)
        try:
            policy = DownloadPolicy(
                HostList.parse(["*.cdn.test"]),
                addresses=loopback_only_for_tests,
                resolve=lambda host, port: ["127.0.0.1"],
                ports=frozenset({cdn.port}),
            )
            downloader = AttachmentDownloader(policy, max_bytes=25 * 1024 * 1024, verify=str(ca))
            healthy = b"%PDF-" + os.urandom(5 * 1024 * 1024)
            cdn.routes["/healthy.pdf"] = cdn_server.serve(healthy, "application/pdf")
            cdn.routes["/trickle.pdf"] = cdn_server.trickle(1_000_000, 0.5)
            cdn.routes["/headers"] = cdn_server.trickle_headers(0.5, 200)
            cdn.routes["/busy"] = cdn_server.retry_after("24")
            for name in ("a", "b", "c"):
                cdn.routes[f"/{name}.pdf"] = cdn_server.trickle(1_000_000, 0.5)

            def call(paths: list[str]) -> tuple[float, list[str]]:
                """One webhook call: one deadline, the files one after the other (as the relay does)."""
                deadline = Deadline(DEADLINE_SECONDS)
                outcomes = []
                started = time.perf_counter()
                for path in paths:
                    try:
                        with downloader.fetch(cdn.url(path, "files.cdn.test"), deadline) as (_, size):
                            outcomes.append(f"{size:,} bytes")
                    except MessagingError as failed:
                        outcomes.append(f"`{failed.reason}`")
                return time.perf_counter() - started, outcomes

            cases: list[tuple[str, Callable[[], tuple[float, list[str]]], float]] = [
                ("a healthy 5 MiB file", lambda: call(["/healthy.pdf"]), DEADLINE_SECONDS),
                ("a byte every 0.5 s of a declared 1 MB", lambda: call(["/trickle.pdf"]), DEADLINE_SECONDS),
                ("headers a byte every 0.5 s, never finished", lambda: call(["/headers"]), DEADLINE_SECONDS),
                ("503 with `Retry-After: 24`", lambda: call(["/busy"]), 1.0),
                ("three trickling files in one call", lambda: call(["/a.pdf", "/b.pdf", "/c.pdf"]), DEADLINE_SECONDS),
            ]
            rows = [(label, *run(), limit) for label, run, limit in cases]
        finally:
            cdn.stop()

    print("## Attachment downloads against a hostile CDN (`benchmarks/bench_downloads.py`)\n")
    print(
        f"One deadline per webhook call (`WEBHOOK_DEADLINE_SECONDS`, {DEADLINE_SECONDS:.0f} s) shared by every download "
        "of the call; a real TLS server on 127.0.0.1 plays the CDN. Before issue 17 the audit measured a trickling "
        "server holding a call 36 s and a `Retry-After: 24` being waited for. Wall seconds, one run each.\n"
    )
    print("| Server | Outcome | held the call |")
    print("|---|---|---:|")
    for label, seconds, outcomes, _ in rows:
        print(f"| {label} | {', '.join(outcomes)} | {seconds:.2f} s |")
    print()
    for label, seconds, _, limit in rows:
        bound = limit + SLACK_SECONDS
        print(f"- {'PASS' if seconds <= bound else 'MISS'}: {label}: {seconds:.2f} s <= {bound:.1f} s")
    print(f"\nLoad average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
