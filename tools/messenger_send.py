"""Sign and post a Messenger webhook event, as Meta does, and print what the agent received.

    .venv/bin/python -m tools.messenger_send "my card is 4111 1111 1111 1111"

Against `make local` (docs/local.md) it needs nothing else: it reads the stack's URLs and its (local,
made-up) app secret from .local-stack.json, posts the signed event to chalice local's
/webhook/messenger, then reads the agent's side of the chat from the Connect emulator and prints it:

    POST http://127.0.0.1:8000/webhook/messenger  mid=m_...  X-Hub-Signature-256: sha256=...
    -> 200 EVENT_RECEIVED
    agent received: my card is [CREDIT_DEBIT_NUMBER]

`--curl` prints the signed request as a curl command instead of sending it, for any endpoint and app secret
(`--url`, `--app-secret`), e.g. to reproduce a delivery against a deployed stage.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from sandbox.meta_post import envelope, post, signature

PROJECT_DIR = Path(__file__).resolve().parent.parent
STATE_FILE = PROJECT_DIR / ".local-stack.json"
DEFAULT_PSID = "7000000000000001"
WAIT_SECONDS = 15.0


def _load_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _customer_items(api: str, psid: str) -> list[dict]:
    status, body = _http("GET", f"{api}/sandbox/api/state?psid={psid}")
    if status != 200:
        return []
    return [
        dict(item, contact_id=contact["contact_id"])
        for contact in json.loads(body)["contacts"]
        for item in contact["items"]
        if item["role"] == "CUSTOMER" and item["kind"] == "message"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.messenger_send", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("text", help="what the customer types")
    parser.add_argument("--psid", default=DEFAULT_PSID, help=f"the customer's page-scoped id (default {DEFAULT_PSID})")
    parser.add_argument("--url", help="webhook URL (default: the running `make local` stack's)")
    parser.add_argument("--app-secret", help="Meta app secret to sign with (default: the local stack's)")
    parser.add_argument(
        "--stack", type=Path, default=STATE_FILE, help=f"state file of `make local` ({STATE_FILE.name})"
    )
    parser.add_argument("--curl", action="store_true", help="print the signed request as a curl command; send nothing")
    args = parser.parse_args(argv)

    state = _load_state(args.stack)
    url = args.url or (state or {}).get("webhook")
    app_secret = args.app_secret or (state or {}).get("app_secret")
    if not url or not app_secret:
        print(
            f"messenger_send: no local stack ({args.stack.name} not found): start `make local` in another "
            "terminal, or pass --url and --app-secret",
            file=sys.stderr,
        )
        return 2

    mid = f"m_{uuid.uuid4().hex}"
    body = envelope(args.psid, mid, {"text": args.text}, int(time.time() * 1000))
    signed = signature(app_secret, body)
    if args.curl:
        print(
            f"curl -sS -X POST {shlex.quote(url)} -H 'Content-Type: application/json' "
            f"-H {shlex.quote('X-Hub-Signature-256: ' + signed)} --data-binary {shlex.quote(body.decode())}"
        )
        return 0

    api = (state or {}).get("api") if not args.url or args.url == (state or {}).get("webhook") else None
    before: set[str] = set()
    if api:
        _http(
            "POST",
            f"{api}/sandbox/api/customer/register",
            json.dumps({"psid": args.psid}).encode(),
            {"Content-Type": "application/json"},
        )  # the Graph emulator accepts replies to known people only
        before = {item["id"] for item in _customer_items(api, args.psid)}

    print(f"POST {url}  mid={mid}  X-Hub-Signature-256: {signed[:19]}...")
    answer = post(url, body, signed)
    if not answer.status:
        print(f"messenger_send: {url} is not answering ({answer.error}): is `make local` running?", file=sys.stderr)
        return 1
    print(f"-> {answer.status} {answer.body.decode(errors='replace').strip()[:200]}")
    if answer.status != 200:
        return 1
    if not api:
        return 0

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        new = [item for item in _customer_items(api, args.psid) if item["id"] not in before]
        if new:
            time.sleep(0.3)  # a long text arrives as several Connect messages
            new = [item for item in _customer_items(api, args.psid) if item["id"] not in before]
            for item in new:
                print(f"agent received: {item['text']}")
            print(f"(contact {new[-1]['contact_id']})")
            return 0
        time.sleep(0.1)
    print("agent received nothing within 15 s (see the stack's [app] log lines)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
