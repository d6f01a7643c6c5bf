"""One attachment relay in a fresh process, for bench_outbound.py's memory figures (a module, not a string,
so mypy checks its fakes against the ports).

    python -m benchmarks.outbound_relay_child <streamed|naive> <base url>

Prints {"baseline_mib", "peak_mib", "seconds"}: RSS after a warm-up relay of a small file, the high-water mark
while relaying <base>/file, and how long that took.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.messaging.meta.send_api import Delivery, SendResult
from chalicelib.messaging.meta.webhook import Attachment
from chalicelib.messaging.rendering import QuickReply
from chalicelib.messaging.store.dedupe import Claim
from chalicelib.messaging.store.sessions import ChatSession

MAX_BYTES = 25 * 1024 * 1024


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def reset_peak() -> float:
    # ru_maxrss survives fork/exec (it would report the parent's peak); the per-process high-water mark
    # VmHWM can be reset to the current RSS instead (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status_mib("VmRSS")


def peak_mib() -> float:
    return _status_mib("VmHWM")


class Participant:
    """The connectparticipant client ConnectAttachments calls: uploads go to the local server."""

    def __init__(self, base: str):
        self._base = base

    def start_attachment_upload(self, **request: Any) -> dict[str, Any]:
        headers = {"Content-Type": request["ContentType"]}
        return {"AttachmentId": "att", "UploadMetadata": {"Url": self._base + "/upload", "HeadersToInclude": headers}}

    def complete_attachment_upload(self, **request: Any) -> dict[str, Any]:
        return {}


class AgentChat:
    """ports.AgentNotes: a note to the agent is accepted and dropped."""

    def send_text(self, connection_token: str, text: str, token: str, content_type: str = "text/plain") -> list[str]:
        return []


class NoNotices:
    """ports.Dedupe for the customer's notices: only a refused file would send one."""

    def claim(self, scope: str, key: str, now: float, lease_seconds: float = 30.0, holder: str = "") -> Claim:
        raise AssertionError("no notice expected")

    def complete(self, scope: str, key: str, now: float, outcome: str = "done") -> None:
        raise AssertionError("no notice expected")

    def release(self, scope: str, key: str, holder: str = "") -> None:
        raise AssertionError("no notice expected")


class NoCustomerMessages:
    """ports.CustomerMessenger: a relayed file sends the customer nothing."""

    def send_text(
        self, psid: str, text: str, delivery: Delivery, quick_replies: Iterable[QuickReply] = ()
    ) -> SendResult:
        raise AssertionError("no customer message expected")

    def send_attachment_url(self, psid: str, kind: str, url: str, delivery: Delivery) -> SendResult:
        raise AssertionError("no customer message expected")

    def send_template(self, psid: str, attachment: dict, delivery: Delivery) -> SendResult:
        raise AssertionError("no customer message expected")

    def send_typing(self, psid: str) -> SendResult:
        raise AssertionError("no customer message expected")


def relays(base: str) -> dict[str, Callable[[Attachment], None]]:
    from chalicelib.messaging.attachment_relay import AttachmentRelay
    from chalicelib.messaging.connect.attachments import ConnectAttachments
    from chalicelib.messaging.http import build_session
    from chalicelib.messaging.meta.cdn import AttachmentDownloader
    from chalicelib.messaging.meta.download_policy import DownloadPolicy, HostList

    http = build_session()
    # The local file server is a trusted origin, as the sandbox's emulated CDN is (ATTACHMENT_DOWNLOAD_HOSTS).
    downloader = AttachmentDownloader(DownloadPolicy(HostList.parse([base])), MAX_BYTES)
    relay = AttachmentRelay(
        downloader,
        ConnectAttachments(Participant(base), http),
        AgentChat(),
        NoCustomerMessages(),
        frozenset({"pdf"}),
        MAX_BYTES,
        notices=NoNotices(),
    )
    now = time.time()
    session = ChatSession("messenger", "psid", "contact", "participant", "token", now + 3600, now, int(now + 86400))

    def streamed(attachment: Attachment) -> None:
        assert relay.relay(session, attachment, "key") == "attachment_uploaded"

    def naive(attachment: Attachment) -> None:
        body = http.get(attachment.url, timeout=30).content
        assert http.put(base + "/upload", data=body, timeout=30).status_code == 200

    return {"streamed": streamed, "naive": naive}


def main(mode: str, base: str) -> None:
    run = relays(base)[mode]
    run(Attachment("file", base + "/small"))  # warm-up: imports, connection pool, spool machinery
    baseline = reset_peak()
    start = time.perf_counter()
    run(Attachment("file", base + "/file"))
    elapsed = time.perf_counter() - start
    print(json.dumps({"baseline_mib": baseline, "peak_mib": peak_mib(), "seconds": elapsed}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
