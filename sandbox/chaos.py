"""`make chaos`: the whole sandbox under injected faults, many customers at once, and a tally of what arrived.

    python -m sandbox.chaos [--conversations 50] [--replies 2] [--seed 17] [--no-faults] [--json FILE]

Starts the stack of `make run` with faults in its emulators (sandbox/faults.py: Connect throttling, 5xx and
lost answers, DynamoDB throttling and lost write answers, Graph 5xx and timeouts, short-lived connection
tokens, a slow CDN) and drives N customer conversations concurrently, like Meta would: signed webhook
posts retried until answered 200, some posted twice (Meta redelivers), and for half of the customers a
card number split over two messages that are in flight at the same time. Agents reply on every chat; some
stream notifications are delivered twice (SNS is at least once).

Every message carries a letters-only tag, so the tally reads the agent's transcripts (Connect emulator) and
the customer's inbox (Graph emulator) and counts each message: delivered exactly once, duplicated or lost,
in both directions. It also counts card digits the agent could read, latencies, and errors. The exit
status is 1 on any loss, duplicate or leak: the figures in docs/reliability.md come from this command.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sandbox import resources
from sandbox.faults import FaultPlan, Faults, trickle
from sandbox.meta_post import envelope, post, signature
from sandbox.ports import HOST
from sandbox.stack import Options, Ports, Stack

LETTERS = "abcdefghijklmnop"
INBOUND_TAG = re.compile(r"\bzx([a-p]+)q([a-p]+)\b")
REPLY_TAG = re.compile(r"\bzy([a-p]+)q([a-p]+)\b")
FILE_TAG = re.compile(rb"\bzf([a-p]+)q([a-p]+)\b")
VISIBLE_CARD_DIGITS = 6  # what an agent may see of a split card number (the BIN; chalicelib/redaction/conversation.py)
META_RETRY_SECONDS = 90.0  # Meta retries for hours; the run gives each message this long
SETTLE_SECONDS = 120.0


def code(number: int) -> str:
    """A number as letters a-p: tags carry no digits, so every digit an agent sees is a card digit."""
    out = ""
    while True:
        number, digit = divmod(number, 16)
        out = LETTERS[digit] + out
        if number == 0:
            return out


def decode(letters: str) -> int:
    return int("".join(f"{LETTERS.index(c):x}" for c in letters), 16)


def luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


# ------------------------------------------------------------------------------------------------ Meta's side


@dataclass
class Post:
    tag: tuple[int, int]
    started: float
    attempts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    answered: bool = False


class Meta:
    """Signed webhook posts, retried like Meta retries (every non-200), sometimes delivered twice."""

    def __init__(self, webhook_url: str, app_secret: str, faults: Faults):
        self._url = webhook_url
        self._secret = app_secret.encode()
        self._faults = faults
        self._lock = self.lock = threading.Lock()
        self.posts: list[Post] = []
        self.redeliveries = 0
        self._threads: list[threading.Thread] = []

    def send(self, psid: str, tag: tuple[int, int], message: dict) -> Post:
        body = envelope(psid, f"m_{uuid.uuid4().hex}", message, int(time.time() * 1000))
        sent = Post(tag, time.time())
        with self._lock:
            self.posts.append(sent)
        self._deliver(body, sent)
        if sent.answered and self._faults.roll("meta_redelivery", self._faults.plan.meta_redelivery):
            again = threading.Thread(target=self._redeliver, args=(body, sent), daemon=True)
            with self._lock:
                self._threads.append(again)
            again.start()
        return sent

    def _redeliver(self, body: bytes, original: Post) -> None:
        time.sleep(self._faults.uniform(0.05, 1.0))
        with self._lock:
            self.redeliveries += 1
        self._deliver(body, Post(original.tag, time.time()), count=False)

    def _deliver(self, body: bytes, attempt: Post, count: bool = True) -> None:
        signed = signature(self._secret, body)
        give_up = time.monotonic() + META_RETRY_SECONDS
        delay = 0.25
        while True:
            status = post(self._url, body, signed).status
            with self._lock:
                attempt.attempts += 1
                attempt.statuses[status] += 1
            if status == 200:
                attempt.answered = True
                return
            if time.monotonic() + delay > give_up:
                return
            time.sleep(delay)
            delay = min(delay * 2, 4.0)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))


class SlowCdn:
    """Meta's CDN stand-in: files by token, some of them served late and in trickles."""

    def __init__(self, faults: Faults):
        self._files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                token = self.path.rsplit("/", 1)[-1]
                with cdn._lock:
                    found = cdn._files.get(token)
                if found is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, content_type = found
                first_byte, trickling = faults.cdn_delay()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    trickle(self.wfile.write, data, first_byte, trickling)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self.base_url = f"http://{HOST}:{self._server.server_address[1]}/cdn"

    def add(self, data: bytes, content_type: str) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._files[token] = (data, content_type)
        return f"{self.base_url}/{token}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ------------------------------------------------------------------------------------------------ the run


@dataclass
class Conversation:
    index: int
    psid: str
    card: str
    concurrent_card: bool
    sends_file: bool
    sent: list[tuple[int, int]] = field(default_factory=list)
    file_tags: set[tuple[int, int]] = field(default_factory=set)
    replies: list[tuple[str, float]] = field(default_factory=list)  # (item id, time the agent sent it)
    failure: str = ""


class Run:
    def __init__(self, stack: Stack, meta: Meta, cdn: SlowCdn, faults: Faults, replies: int, seed: int):
        self.stack, self.meta, self.cdn, self.faults = stack, meta, cdn, faults
        self.replies = replies
        self.rng = random.Random(seed)
        self.conversations: list[Conversation] = []
        self.reply_sent_at: dict[tuple[int, int], float] = {}
        self.sns_redelivered = 0
        self._lock = threading.Lock()

    def conversation(self, index: int) -> Conversation:
        card = luhn_card(self.rng)
        return Conversation(index, f"79{index:012d}", card, concurrent_card=index % 2 == 0, sends_file=index % 5 == 0)

    def drive(self, conv: Conversation) -> None:
        try:
            self._drive(conv)
        except Exception as exc:  # a driver problem is reported, never hidden
            conv.failure = f"{type(exc).__name__}: {exc}"

    def _drive(self, conv: Conversation) -> None:
        self.stack.graph.register_customer(conv.psid)
        self._text(conv, "hello {tag} I would like some help with my order please")
        chat = self._wait_for_chat(conv, (conv.index, 0))
        card = conv.card
        first = "my card number is " + f"{card[:4]} {card[4:8]}" + " {tag}"
        second = f"{card[8:12]} {card[12:]}" + " {tag}"
        if conv.concurrent_card:  # both halves in flight at once (two webhooks of one customer)
            other = threading.Thread(target=self._text, args=(conv, first))
            other.start()
            time.sleep(0.1)
            self._text(conv, second)
            other.join()
        else:
            self._text(conv, first)
            self._text(conv, second)
        if conv.sends_file:
            tag = self._next_tag(conv)
            conv.file_tags.add(tag)
            url = self.cdn.add(f"chaos file zf{code(tag[0])}q{code(tag[1])}\nnothing else\n".encode(), "text/plain")
            self.meta.send(conv.psid, tag, {"attachments": [{"type": "file", "payload": {"url": url}}]})
        for number in range(self.replies):
            chat = self._active_chat(conv) or chat
            text = f"Thanks, I am checking that for you zy{code(conv.index)}q{code(number)}."
            item = self.stack.model.agent_message(chat.contact_id, text)
            with self._lock:
                self.reply_sent_at[(conv.index, number)] = time.time()
            if self.faults.roll("sns_redelivery", self.faults.plan.sns_redelivery):
                time.sleep(0.05)
                if self.stack.stream.redeliver(item["Id"]):
                    with self._lock:
                        self.sns_redelivered += 1
            time.sleep(0.05)
        self._text(conv, "thanks {tag} that is all for today")

    def _next_tag(self, conv: Conversation) -> tuple[int, int]:
        with self._lock:
            tag = (conv.index, len(conv.sent))
            conv.sent.append(tag)
        return tag

    def _text(self, conv: Conversation, template: str) -> None:
        tag = self._next_tag(conv)
        self.meta.send(conv.psid, tag, {"text": template.format(tag=f"zx{code(tag[0])}q{code(tag[1])}")})

    def _wait_for_chat(self, conv: Conversation, tag: tuple[int, int]) -> Any:
        deadline = time.monotonic() + META_RETRY_SECONDS
        while time.monotonic() < deadline:
            chat = self._active_chat(conv)
            if chat is not None:
                return chat
            time.sleep(0.1)
        raise RuntimeError("no chat with an agent for this customer")

    def _active_chat(self, conv: Conversation) -> Any:
        latest = None
        for chat in self.stack.model.chats():
            if chat.ended or chat.agent is None:
                continue
            for item in chat.items:
                if item.get("ParticipantRole") == "CUSTOMER" and _tags(
                    INBOUND_TAG, item.get("Content") or "", conv.index
                ):
                    latest = chat
                    break
        return latest


def _tags(pattern: re.Pattern[str], text: str, conversation: int | None = None) -> list[tuple[int, int]]:
    found = [(decode(a), decode(b)) for a, b in pattern.findall(text)]
    return [tag for tag in found if conversation is None or tag[0] == conversation]


# ------------------------------------------------------------------------------------------------ the tally


@dataclass
class Direction:
    sent: int = 0
    exactly_once: int = 0
    duplicated: int = 0
    lost: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "delivered_exactly_once": self.exactly_once,
            "duplicated": self.duplicated,
            "lost": self.lost,
            "latency_ms": _percentiles(self.latencies_ms),
        }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 1), "p99": round(p99, 1), "max": round(ordered[-1], 1)}


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def tally(run: Run) -> dict[str, Any]:
    model, graph, stream = run.stack.model, run.stack.graph, run.stack.stream
    seen: Counter[tuple[int, int]] = Counter()
    first_seen: dict[tuple[int, int], float] = {}
    visible_digits: Counter[int] = Counter()
    for chat in model.chats():
        for item in chat.items:
            if item.get("ParticipantRole") != "CUSTOMER" or item.get("Type") != "MESSAGE":
                continue
            content = item.get("Content") or ""
            tags = _tags(INBOUND_TAG, content)
            for tag in tags:
                seen[tag] += 1
                first_seen.setdefault(tag, _epoch(item["AbsoluteTime"]))
            for conversation in {tag[0] for tag in tags}:
                visible_digits[conversation] += sum(ch.isdigit() for ch in content)
    # Files: read back what the scanner approved and find their tags.
    files: Counter[tuple[int, int]] = Counter()
    for attachment in run.stack.attachments.all():
        if attachment.status != "APPROVED" or attachment.participant.role != "CUSTOMER":
            continue
        try:
            body = run.stack.s3.get_object(Bucket=resources.ATTACHMENTS_BUCKET, Key=attachment.final_key)["Body"].read()
        except Exception:
            continue
        for a, b in FILE_TAG.findall(body):
            files[(decode(a.decode()), decode(b.decode()))] += 1
    inbound = Direction()
    posts = {post.tag: post for post in run.meta.posts}
    for conv in run.conversations:
        for tag in conv.sent:
            inbound.sent += 1
            count = files[tag] if tag in conv.file_tags else seen[tag]
            if count == 0:
                inbound.lost += 1
            elif count == 1:
                inbound.exactly_once += 1
            else:
                inbound.duplicated += 1
            if tag in first_seen and tag in posts:
                inbound.latencies_ms.append((first_seen[tag] - posts[tag].started) * 1000)
    outbound = Direction()
    for conv in run.conversations:
        delivered: Counter[tuple[int, int]] = Counter()
        delivered_at: dict[tuple[int, int], float] = {}
        for message in graph.messages_for(conv.psid):
            for tag in _tags(REPLY_TAG, message.text or "", conv.index):
                delivered[tag] += 1
                delivered_at.setdefault(tag, message.at)
        for number in range(run.replies):
            tag = (conv.index, number)
            if tag not in run.reply_sent_at:
                continue
            outbound.sent += 1
            count = delivered[tag]
            outbound.lost += count == 0
            outbound.exactly_once += count == 1
            outbound.duplicated += count > 1
            if tag in delivered_at:
                outbound.latencies_ms.append((delivered_at[tag] - run.reply_sent_at[tag]) * 1000)
    leaks = sorted(conv.index for conv in run.conversations if visible_digits[conv.index] > VISIBLE_CARD_DIGITS)
    webhook_statuses: Counter[str] = Counter()
    with run.meta.lock:
        for post in run.meta.posts:
            for status, count in post.statuses.items():
                webhook_statuses[str(status)] += count
    stream_status = Counter(delivery.status for delivery in stream.deliveries)
    return {
        "conversations": len(run.conversations),
        "customer_to_agent": inbound.view(),
        "agent_to_customer": outbound.view(),
        "pii_visible_to_agent": len(leaks),
        "leaking_conversations": leaks[:20],
        "errors": {
            "webhook_answers": dict(sorted(webhook_statuses.items())),
            "webhook_unanswered_after_retries": sum(not post.answered for post in run.meta.posts),
            "stream_deliveries": dict(sorted(stream_status.items())),
            "graph_refusals": len(graph.rejected),
            "driver_failures": [conv.failure for conv in run.conversations if conv.failure][:5],
        },
        "redelivered": {"meta": run.meta.redeliveries, "sns": run.sns_redelivered},
        "faults_injected": run.faults.counts(),
    }


def settled(run: Run) -> bool:
    report = tally(run)
    return report["customer_to_agent"]["lost"] == 0 and report["agent_to_customer"]["lost"] == 0


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--replies", type=int, default=2, help="agent replies per conversation (default 2)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--no-faults", action="store_true", help="the same run without injected faults")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument(
        "--log",
        type=Path,
        default=Path("artifacts/chaos-stack.log"),
        help="the stack's output (default artifacts/chaos-stack.log)",
    )
    args = parser.parse_args(argv)

    plan = FaultPlan.none() if args.no_faults else FaultPlan()
    plan = FaultPlan(**{**plan.describe(), "seed": args.seed})
    faults = Faults(plan)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    log = open(args.log, "w")  # noqa: SIM115 (the stack writes to it until it stops)
    cdn = SlowCdn(faults)
    stack = Stack(
        Options(
            ports=Ports(front=0),  # a free port
            connection_ttl_seconds=plan.connection_ttl_seconds,
            log=log,
            faults=faults,
            cdn_origins=(cdn.base_url.removesuffix("/cdn"),),
        )
    )
    started = time.monotonic()
    try:
        try:
            urls = stack.start()
        except RuntimeError as exc:
            print(f"chaos: the sandbox did not start: {exc} (see {args.log})", file=sys.stderr)
            return 2
        secret = resources.MESSENGER_SECRET
        meta = Meta(f"{urls['app']}/webhook/messenger", secret["APP_SECRET"], faults)
        run = Run(stack, meta, cdn, faults, args.replies, args.seed)
        run.conversations = [run.conversation(index) for index in range(args.conversations)]
        print(
            f"chaos: {args.conversations} conversations, faults {'off' if args.no_faults else 'on'} (seed {args.seed})",
            file=sys.stderr,
            flush=True,
        )
        threads = [threading.Thread(target=run.drive, args=(conv,)) for conv in run.conversations]
        for thread in threads:
            thread.start()
            time.sleep(0.02)
        for thread in threads:
            thread.join()
        meta.join(META_RETRY_SECONDS)
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline and not settled(run):
            stack.stream.wait_idle(1.0)
            time.sleep(0.5)
        stack.stream.wait_idle(30.0)
        time.sleep(1.0)  # late duplicates (a redelivery still in flight) count too
        report = tally(run)
    finally:
        cdn.stop()
        stack.stop()
        log.close()
    report["elapsed_seconds"] = round(time.monotonic() - started, 1)
    report["app_error_log_lines"] = _error_lines(args.log)
    report["fault_plan"] = plan.describe()
    report["command"] = "make chaos" + (
        "" if args.conversations == 50 else f" CHAOS_ARGS='--conversations {args.conversations}'"
    )
    failed = (
        report["customer_to_agent"]["lost"]
        + report["customer_to_agent"]["duplicated"]
        + report["agent_to_customer"]["lost"]
        + report["agent_to_customer"]["duplicated"]
        + report["pii_visible_to_agent"]
    ) > 0
    report["verdict"] = "FAIL" if failed else "PASS"
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if failed else 0


def _error_lines(path: Path) -> int:
    """The app's ERROR / CRITICAL log lines. The logs are compact JSON (`"level":"ERROR"`): the count
    looked for `"level": "ERROR"` and was always 0."""
    try:
        return sum(bool(_ERROR_LEVEL.search(line)) for line in path.open())
    except OSError:
        return 0


_ERROR_LEVEL = re.compile(r'"level":\s*"(?:ERROR|CRITICAL)"')


def render(report: dict[str, Any]) -> str:
    lines = [
        f"make chaos: {report['conversations']} conversations in {report['elapsed_seconds']} s -> {report['verdict']}"
    ]
    for name in ("customer_to_agent", "agent_to_customer"):
        d = report[name]
        latency = d["latency_ms"]
        lines.append(
            f"  {name.replace('_', ' '):<18} sent {d['sent']:>4}  exactly once {d['delivered_exactly_once']:>4}  "
            f"duplicated {d['duplicated']:>3}  lost {d['lost']:>3}  "
            f"latency p50 {latency.get('p50', '-')} ms  p99 {latency.get('p99', '-')} ms"
        )
    lines.append(
        f"  PII visible to the agent: {report['pii_visible_to_agent']} conversation(s)"
        + (f" {report['leaking_conversations']}" if report["leaking_conversations"] else "")
    )
    errors = report["errors"]
    lines.append(
        f"  errors: webhook answers {errors['webhook_answers']}, unanswered after retries "
        f"{errors['webhook_unanswered_after_retries']}, stream deliveries {errors['stream_deliveries']}, "
        f"Graph refusals {errors['graph_refusals']}, app ERROR log lines {report['app_error_log_lines']}"
    )
    if errors["driver_failures"]:
        lines.append(f"  driver failures: {errors['driver_failures']}")
    lines.append(f"  redelivered: {report['redelivered']}")
    lines.append(f"  faults injected: {report['faults_injected']}")
    return "\n".join(lines)


if __name__ == "__main__":
    code_ = main()
    sys.stdout.flush()
    sys.stderr.flush()
    import os

    os._exit(code_)
