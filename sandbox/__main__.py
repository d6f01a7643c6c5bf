"""`python -m sandbox`: the whole product on this machine (what `make run` starts). Ctrl-C stops it.

`python -m sandbox --local` (what `make local` starts): the same stack without the page, with
`chalice local --stage local` itself on the port, for webhook testing by hand (docs/local.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from sandbox import resources
from sandbox.stack import Options, Ports, Stack, ready_line

STATE_FILE = resources.PROJECT_DIR / ".local-stack.json"


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="the page and the app (default 8000; 0 picks a free one); with --local, chalice local's port",
    )
    parser.add_argument(
        "--connection-ttl",
        type=float,
        default=86400.0,
        help="seconds a Connect connection token lives (default 86400; try 60 to see recovery)",
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="no page: chalice local --stage local on --port, wired to the emulators (make local)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help=f"where --local writes its URLs for tools.messenger_send (default {STATE_FILE.name})",
    )
    args = parser.parse_args()
    state_file = args.state_file or (STATE_FILE if args.local else None)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    stack = Stack(
        Options(
            ports=Ports(front=args.port),
            connection_ttl_seconds=args.connection_ttl,
            local=args.local,
            state_file=state_file,
        )
    )
    try:
        urls = stack.start()
        print(ready_line(urls), flush=True)
        if args.local:
            print(
                f"\n  chalice local --stage local: {urls['app']}  (AWS, Connect and Graph emulated; Ctrl-C stops)"
                f"\n  webhook: {urls['webhook']}  (app secret {resources.MESSENGER_SECRET['APP_SECRET']!r})"
                f'\n  try:     .venv/bin/python -m tools.messenger_send "my card is 4111 1111 1111 1111"\n',
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"\n  Connect Guard sandbox: open {urls['sandbox']}   (Ctrl-C stops)\n", file=sys.stderr, flush=True)
        stop.wait()
    except (RuntimeError, OSError) as exc:  # RuntimeError: ours, worded for the user (a busy port, a server down)
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
