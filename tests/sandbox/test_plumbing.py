"""The sandbox's plumbing: Meta's signed webhook posts, the front proxy, the Lambda host."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
from typing import TYPE_CHECKING

import pytest
import requests
from chalice import Chalice
from chalice.config import Config

from sandbox.customer import MetaCustomers
from sandbox.httpkit import Request, Response, Router, serve, url_of
from sandbox.lambda_host import build_router
from sandbox.lambdas import LambdaInvoker
from tests.sandbox.fakes import MemoryS3, ScriptedInvoker

if TYPE_CHECKING:
    from sandbox.web import SandboxSite


@pytest.fixture
def recorder():
    """A fake app that records what it receives and answers with scripted statuses."""
    received: list[Request] = []
    statuses: list[int] = []

    def handle(request: Request) -> Response:
        received.append(request)
        status = statuses.pop(0) if statuses else 200
        return Response(status, b"ok", {"Content-Type": "text/plain", "X-App": "yes"})

    server = serve("recorder", "127.0.0.1", 0, Router(fallback=handle))
    yield url_of(server), received, statuses
    server.shutdown()
    server.server_close()


def test_customer_messages_are_signed_over_the_exact_bytes_and_retried_on_errors(recorder):
    url, received, statuses = recorder
    statuses.extend([500, 200])
    customers = MetaCustomers(url + "/webhook/messenger", "secret", "http://cdn")
    sent = customers.send_text("123", "héllo ✓")
    assert sent.status == 200 and sent.attempts == 2
    first, retry = received
    assert first.body == retry.body  # Meta retries the same delivery
    expected = "sha256=" + hmac.new(b"secret", first.body, hashlib.sha256).hexdigest()
    assert first.headers["X-Hub-Signature-256"] == expected
    assert b"\\u00e9" in first.body  # non-ASCII escaped, as Meta sends it
    envelope = json.loads(first.body)
    message = envelope["entry"][0]["messaging"][0]
    assert envelope["object"] == "page" and message["sender"]["id"] == "123"
    assert message["message"] == {"mid": sent.mid, "text": "héllo ✓"}


def test_a_resend_posts_the_same_bytes_with_the_same_signature(recorder):
    url, received, _ = recorder
    customers = MetaCustomers(url + "/webhook/messenger", "secret", "http://cdn")
    sent = customers.send_text("123", "hello")
    resent = customers.resend(sent.mid)
    assert resent is not None and resent.attempts == 2 and customers.resend("m_unknown") is None
    first, again = received
    assert first.body == again.body
    assert first.headers["X-Hub-Signature-256"] == again.headers["X-Hub-Signature-256"]


def test_customer_files_are_served_from_an_expiring_cdn_url(recorder):
    url, received, _ = recorder
    customers = MetaCustomers(url + "/webhook/messenger", "secret", "http://127.0.0.1:9/sandbox/cdn")
    customers.send_file("123", "my photo.png", "image/png", b"png-bytes")
    attachment = json.loads(received[0].body)["entry"][0]["messaging"][0]["message"]["attachments"][0]
    assert attachment["type"] == "image"
    token = attachment["payload"]["url"].split("/sandbox/cdn/")[1].split("/")[0]
    served = customers.cdn_file(token)
    assert served is not None and served.data == b"png-bytes"
    customers._cdn[token].expires_at = 0
    assert customers.cdn_file(token) is None


def idle_site(app_url: str) -> SandboxSite:
    """The sandbox's front in front of `app_url`, with emulators that exist but are never called: the test
    below uses only the proxy and the static files."""
    from sandbox.connect.attachments import AttachmentService
    from sandbox.connect.model import ConnectModel
    from sandbox.connect.streaming import StreamDelivery
    from sandbox.graph import GraphEmulator
    from sandbox.ivr_panel import IvrPanel
    from sandbox.resources import IvrKey
    from sandbox.web import SandboxSite

    invoker, s3 = ScriptedInvoker(), MemoryS3()
    model = ConnectModel("instance", "flow", lambda arn: False, lambda chat, item: None)
    return SandboxSite(
        app_url,
        model,
        AttachmentService(model, s3, "bucket", "attachments/", invoker, "http://127.0.0.1:9"),
        StreamDelivery(invoker, "arn:aws:sns:us-east-1:123456789012:stream", "instance"),
        GraphEmulator("page-token", "app-secret"),
        MetaCustomers(app_url + "/webhook/messenger", "secret", "http://127.0.0.1:9/sandbox/cdn"),
        IvrPanel(invoker, IvrKey("key", b"", b""), "instance"),
        s3,
        "bucket",
    )


def test_the_front_proxy_passes_bytes_headers_and_status_through(recorder):
    url, received, statuses = recorder
    statuses.append(403)
    site = idle_site(url)
    front = serve("front", "127.0.0.1", 0, site.router())
    try:
        body = b'{"a":"\\u00e9"} \xff raw'
        answer = requests.post(
            url_of(front) + "/webhook/messenger?x=1",
            data=body,
            headers={"X-Hub-Signature-256": "sha256=abc", "Content-Type": "application/json"},
        )
        assert answer.status_code == 403 and answer.text == "ok" and answer.headers["X-App"] == "yes"
        assert received[0].body == body and received[0].raw_path == "/webhook/messenger?x=1"
        assert received[0].headers["X-Hub-Signature-256"] == "sha256=abc"
        connection = http.client.HTTPConnection("127.0.0.1", front.server_address[1])
        for path in ("/sandbox/static/..%2F..%2Fapp.py", "/sandbox/static/secret.py"):
            connection.request("GET", path)
            refused = connection.getresponse()
            refused.read()
            assert refused.status == 404
        connection.close()
    finally:
        front.shutdown()
        front.server_close()


@pytest.fixture
def lambda_host():
    app = Chalice(app_name="plumbing")

    @app.lambda_function(name="echo")
    def echo(event, context):
        return {"event": event, "remaining_ms": context.get_remaining_time_in_millis()}

    @app.lambda_function(name="broken")
    def broken(event, context):
        raise RuntimeError("secret detail 4111111111111111")

    @app.route("/")
    def index():
        return {}

    config = Config(
        chalice_stage="local",
        config_from_disk={"stages": {"local": {"lambda_functions": {"echo": {"lambda_timeout": 30}}}}},
    )
    server = serve("lambda-host", "127.0.0.1", 0, build_router(app, config))
    yield LambdaInvoker(url_of(server))
    server.shutdown()
    server.server_close()


def test_the_lambda_host_runs_functions_with_their_configured_timeout(lambda_host):
    outcome = lambda_host.invoke("echo", {"a": 1})
    assert outcome.ok and outcome.result["event"] == {"a": 1}
    assert 25_000 < outcome.result["remaining_ms"] <= 30_000


def test_the_lambda_host_reports_function_errors_without_their_message(lambda_host):
    outcome = lambda_host.invoke("broken", {})
    assert outcome.error == "RuntimeError"
    assert "4111" not in json.dumps(outcome.result)


def test_routes_and_unknown_names_are_not_functions(lambda_host):
    assert lambda_host.invoke("index", {}).error == "HTTP404"
    assert lambda_host.invoke("nope", {}).error == "HTTP404"


def test_an_emulator_whose_caller_hung_up_prints_nothing_and_keeps_serving(capsys):
    import socket
    import threading

    called, hung_up = threading.Event(), threading.Event()
    handlers: list[threading.Thread] = []

    def slow(request: Request) -> Response:
        handlers.append(threading.current_thread())
        called.set()
        hung_up.wait(10)
        return Response(200, b"x" * (4 * 1024 * 1024))  # more than the socket buffers: the write meets the closed peer

    router = Router()
    router.add("GET", "/slow", slow)
    router.add("GET", "/ok", lambda request: Response(200, b"ok"))
    server = serve("hang-up", "127.0.0.1", 0, router)
    try:
        host, port = server.server_address[:2]
        with socket.create_connection((str(host), port)) as caller:
            caller.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            assert called.wait(10)
            caller.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        hung_up.set()
        handlers[0].join(10)  # its answer has met the closed connection
        assert requests.get(f"{url_of(server)}/ok", timeout=10).text == "ok"
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capsys.readouterr().err
