"""The one signed-webhook-post helper (sandbox/meta_post.py): what it builds is what the app accepts, and the
sandbox customer, `make chaos` and tools/messenger_send.py use it instead of their own copies."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chalicelib.messaging.meta.webhook import Text, parse_payload, signature_matches
from sandbox import meta_post
from tests.support import PROJECT_DIR


def test_the_envelope_parses_as_the_message_and_the_signature_matches():
    body = meta_post.envelope("psid-1", "m_1", {"text": "héllo"}, 1_700_000_000_000)
    assert body.isascii()  # Meta escapes non-ASCII and signs the bytes it sends
    (event,) = parse_payload(body)
    assert isinstance(event, Text)
    assert (event.kind, event.mid, event.text, event.origin.sender_id) == ("text", "m_1", "héllo", "psid-1")
    assert event.origin.account_id == meta_post.PAGE_ID
    assert signature_matches("secret", body, meta_post.signature("secret", body))
    assert meta_post.signature(b"secret", body) == meta_post.signature("secret", body)
    assert not signature_matches("other", body, meta_post.signature("secret", body))


def test_post_sends_the_signature_and_reports_status_body_or_no_answer():
    received = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            received.append((self.headers["X-Hub-Signature-256"], self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "14")
            self.end_headers()
            self.wfile.write(b"EVENT_RECEIVED")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/webhook/messenger"
    try:
        answer = meta_post.post(url, b"{}", "sha256=ab")
    finally:
        server.shutdown()
        server.server_close()
    assert (answer.status, answer.body) == (200, b"EVENT_RECEIVED") and received == [("sha256=ab", b"{}")]
    gone = meta_post.post(url, b"{}", "sha256=ab", timeout=2)
    assert gone.status == 0 and gone.error


def test_no_other_copy_of_the_signing_or_the_envelope():
    for path in ("sandbox/customer.py", "sandbox/chaos.py", "tools/messenger_send.py"):
        source = (PROJECT_DIR / path).read_text()
        assert "from sandbox.meta_post import" in source, path
        assert "hmac" not in source and '"messaging": [' not in source, path
