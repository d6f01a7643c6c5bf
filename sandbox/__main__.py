"""`python -m sandbox`: the whole product on this machine (what `make run` starts). Ctrl-C stops it."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from sandbox.stack import Options, Ports, Stack, ready_line


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="the page and the app (default 8000)")
    parser.add_argument(
        "--connection-ttl",
        type=float,
        default=86400.0,
        help="seconds a Connect connection token lives (default 86400; try 60 to see recovery)",
    )
    args = parser.parse_args()

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    stack = Stack(Options(ports=Ports(front=args.port), connection_ttl_seconds=args.connection_ttl))
    try:
        urls = stack.start()
        print(ready_line(urls), flush=True)
        print(f"\n  Connect Guard sandbox: open {urls['sandbox']}   (Ctrl-C stops)\n", file=sys.stderr, flush=True)
        stop.wait()
    except RuntimeError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print("sandbox: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is stopped and closed by now; skip the seconds CPython spends tearing down moto's modules.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
