"""Issue 17: a Graph timeout resent the whole event, and a page-token rotation dropped agent replies.

- A read timeout means Graph got the message and did not answer in time: it may have delivered it, and
  the Send API has no idempotency key. The part was released and the SNS event retried: the customer got it
  twice. Now it is recorded as unconfirmed (never resent) and the message's other parts go on. A connect
  timeout (nothing sent) is still retried.
- A token still refused after rereading the secret (a rotation half done) was a permanent refusal: the
  reply was dropped. Now it is retried (Lambda's retries, then the dead-letter queue).
"""

from __future__ import annotations

import pytest
import requests
import responses
from moto import mock_aws

from chalicelib.messaging.http import build_session
from chalicelib.messaging.meta.send_api import UNCONFIRMED, Delivery, GraphUnavailable, MessengerClient
from tests.messaging.outbound_world import SEND_URL, World
from tests.messaging.stream_fixtures import sns_event, stream_item
from tests.sessions_table import create_sessions_table

GRAPH = "https://graph.test/v25.0"


def client(tokens=("old-token",)):
    tokens = list(tokens)

    def credentials(refresh=False, account=None):
        if refresh and len(tokens) > 1:
            tokens.pop(0)
        return tokens[0], "app-secret"

    return MessengerClient(GRAPH, credentials, session=build_session(backoff_factor=0), sleep=lambda s: None)


@responses.activate
def test_a_read_timeout_is_unconfirmed_and_not_raised():
    responses.post(GRAPH + "/me/messages", body=requests.ReadTimeout("slow"))
    result = client().send_text("123", "hello", Delivery("RESPONSE"))
    assert not result.delivered and result.reason == UNCONFIRMED
    assert len(responses.calls) == 1  # never resent


@responses.activate
def test_a_connect_timeout_is_retried_later():
    responses.post(GRAPH + "/me/messages", body=requests.ConnectTimeout("no route"))
    with pytest.raises(GraphUnavailable):
        client().send_text("123", "hello", Delivery("RESPONSE"))


@responses.activate
def test_a_token_refused_after_rereading_the_secret_is_retried_not_dropped():
    refused = {
        "error": {"message": "Invalid OAuth access token", "type": "OAuthException", "code": 190, "fbtrace_id": "t"}
    }
    responses.post(GRAPH + "/me/messages", json=refused, status=401)
    with pytest.raises(GraphUnavailable) as later:
        client(("old-token", "still-old-token")).send_text("123", "hello", Delivery("RESPONSE"))
    assert later.value.reason == "graph_token_rejected"
    assert len(responses.calls) == 2  # once, and once more with the reread secret


def test_a_part_that_timed_out_is_not_resent_and_the_rest_goes_on():
    with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        create_sessions_table()
        world = World(graph)
        world.seed()
        answers = iter([requests.ReadTimeout("slow")])

        def answer(request):
            try:
                raise next(answers)
            except StopIteration:
                return 200, {}, '{"recipient_id": "1", "message_id": "m_1"}'

        graph.add_callback(responses.POST, SEND_URL, callback=answer)
        long_text = ("word " * 380 + "\n\n") * 2  # two Messenger parts
        event = sns_event(stream_item("contact-1", content=long_text))
        first = world.relay.handle_event(event)
        assert not first.retry
        again = world.relay.handle_event(event)  # SNS delivers it again anyway
        assert not again.retry
        assert len(world.sent()) == 2  # part 1 once (unconfirmed), part 2 once


def test_a_real_read_timeout_through_the_retrying_session_is_unconfirmed_and_sent_once():
    """`make chaos` found it: through the real urllib3 stack (not `responses`, which raises ReadTimeout
    itself), `Retry(read=0)` turned a read timeout into MaxRetryError, which requests raises as a
    ConnectionError: `graph_unreachable`, transient, and Lambda's retry sent the reply a second time."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts = []
    answered = threading.Event()

    class SlowGraph(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers["Content-Length"]))
            posts.append(self.path)  # delivered; the answer comes after the client's read timeout
            answered.wait(2)
            body = b'{"recipient_id": "123", "message_id": "m"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowGraph)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        graph = MessengerClient(
            f"http://127.0.0.1:{server.server_address[1]}/v25.0",
            lambda refresh=False, account=None: ("token", "app-secret"),
            session=build_session(backoff_factor=0),
            timeout=(2.0, 0.2),
            sleep=lambda s: None,
        )
        result = graph.send_text("123", "hello", Delivery("RESPONSE"))
    finally:
        answered.set()
        server.shutdown()
        server.server_close()
    assert not result.delivered and result.reason == UNCONFIRMED
    assert len(posts) == 1  # never resent
