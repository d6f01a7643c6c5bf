"""Graph Send API client: request shape, secrets kept out of URLs and logs, and every error class."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
import responses

from chalicelib.messaging.http import build_session
from chalicelib.messaging.meta.send_api import (
    Delivery,
    GraphUnavailable,
    MessengerClient,
    attachment_kind,
    delivery_for,
)
from chalicelib.messaging.rendering import QuickReply
from tests.support import request_json, request_url

GRAPH = "https://graph.test/v25.0"
SEND_URL = GRAPH + "/me/messages"
PAGE_TOKEN = "EAAB-page-token-canary-7f3a"
APP_SECRET = "app-secret-canary-91bc"
PSID = "24000000000000001"
RESPONSE = Delivery("RESPONSE")


class Credentials:
    def __init__(self, *tokens):
        self.tokens = list(tokens or [PAGE_TOKEN])
        self.refreshes = 0

    def __call__(self, refresh=False, account=None):
        if refresh:
            self.refreshes += 1
            if len(self.tokens) > 1:
                self.tokens.pop(0)
        return self.tokens[0], APP_SECRET


def client(credentials=None, sleeps=None):
    return MessengerClient(
        GRAPH,
        credentials or Credentials(),
        session=build_session(backoff_factor=0),
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )


def graph_error(code, subcode=None, status=400):
    error = {
        "message": "(#%d) something about the message text" % code,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfTrace",
    }
    if subcode:
        error["error_subcode"] = subcode
    return {"json": {"error": error}, "status": status}


@responses.activate
def test_text_send_shape_token_in_header_proof_in_query_never_token_in_url():
    responses.post(SEND_URL, json={"recipient_id": PSID, "message_id": "m_1"})
    result = client().send_text(PSID, "Hello there", RESPONSE, [QuickReply("Yes", "Yes")])
    assert result.delivered and result.message_id == "m_1"
    request = responses.calls[0].request
    url = request_url(request)
    assert PAGE_TOKEN not in url and APP_SECRET not in url
    assert request.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    proof = hmac.new(APP_SECRET.encode(), PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()
    assert f"appsecret_proof={proof}" in url
    assert request_json(request) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Hello there",
            "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "Yes"}],
        },
    }


@responses.activate
def test_human_agent_tag_and_attachment_by_url_and_typing():
    responses.post(SEND_URL, json={"message_id": "m_2"})
    messenger = client()
    messenger.send_attachment_url(
        PSID, "image", "https://files.test/a.png?sig=1", Delivery("MESSAGE_TAG", tag="HUMAN_AGENT")
    )
    messenger.send_typing(PSID)
    first, second = (request_json(call.request) for call in responses.calls)
    assert first == {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {
            "attachment": {"type": "image", "payload": {"url": "https://files.test/a.png?sig=1", "is_reusable": False}}
        },
    }
    assert second == {"recipient": {"id": PSID}, "sender_action": "typing_on"}


@responses.activate
def test_graph_5xx_then_success_is_retried_by_the_transport_once():
    responses.post(SEND_URL, json={"error": {"code": 2, "message": "x"}}, status=503)
    responses.post(SEND_URL, json={"message_id": "m_3"})
    assert client().send_text(PSID, "hi", RESPONSE).delivered
    assert len(responses.calls) == 2


@responses.activate
def test_persistent_5xx_raises_so_the_record_is_retried_later():
    responses.post(SEND_URL, json={"error": {"code": 1}}, status=500)
    with pytest.raises(GraphUnavailable) as raised:
        client().send_text(PSID, "hi", RESPONSE)
    assert raised.value.reason == "graph_http_500"
    assert len(responses.calls) == 4  # first try + 3 transport retries


@responses.activate
def test_rate_limit_613_backs_off_then_succeeds():
    responses.post(SEND_URL, **graph_error(613))
    responses.post(SEND_URL, **graph_error(613))
    responses.post(SEND_URL, json={"message_id": "m_4"})
    sleeps: list[float] = []
    assert client(sleeps=sleeps).send_text(PSID, "hi", RESPONSE).delivered
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("code", [613, 4, 1, 2, 1200])
@responses.activate
def test_transient_graph_codes_raise_after_bounded_retries(code):
    responses.post(SEND_URL, **graph_error(code))
    sleeps: list[float] = []
    with pytest.raises(GraphUnavailable) as raised:
        client(sleeps=sleeps).send_text(PSID, "hi", RESPONSE)
    assert raised.value.reason == f"graph_code_{code}"
    assert len(sleeps) == 2 and len(responses.calls) == 3


@pytest.mark.parametrize(
    "code,subcode,reason",
    [
        (10, 2018278, "outside_window"),
        (100, 2018001, "unknown_recipient"),
        (100, None, "invalid_parameter"),
        (200, None, "permission_denied"),
        (551, None, "recipient_unavailable"),
        (368, None, "policy_blocked"),
        (10903, None, "messaging_disabled"),
        (12345, None, "graph_error_12345"),
    ],
)
@responses.activate
def test_permanent_errors_are_reported_with_a_reason_and_not_retried(code, subcode, reason, captured_logs):
    responses.post(SEND_URL, **graph_error(code, subcode))
    result = client().send_text(PSID, "secret text canary", RESPONSE)
    assert not result.delivered and result.reason == reason and result.code == code
    assert len(responses.calls) == 1
    refused = [e for e in captured_logs.events() if e["event"] == "graph_send_refused"]
    assert refused and refused[0]["reason"] == reason and refused[0]["fbtrace_id"] == "AbCdEfTrace"
    captured_logs.assert_absent("secret text canary", PAGE_TOKEN, APP_SECRET, "something about")


@responses.activate
def test_bad_token_rereads_the_secret_once_then_alerts_loudly(captured_logs):
    responses.post(SEND_URL, **graph_error(190))
    credentials = Credentials()
    # Retried later, never dropped: a rotation may be half done (issue 17, tests/adversarial/test_graph_ambiguity.py).
    with pytest.raises(GraphUnavailable) as later:
        client(credentials).send_text(PSID, "hi", RESPONSE)
    assert later.value.reason == "graph_token_rejected" and credentials.refreshes == 1
    assert len(responses.calls) == 2
    alerts = [e for e in captured_logs.events() if e["event"] == "graph_token_rejected"]
    assert alerts and alerts[0]["level"] == "CRITICAL"
    captured_logs.assert_absent(PAGE_TOKEN, APP_SECRET)


@responses.activate
def test_rotated_token_is_picked_up_after_a_190():
    responses.post(SEND_URL, **graph_error(190))
    responses.post(SEND_URL, json={"message_id": "m_5"})
    credentials = Credentials("old-token", "new-token")
    assert client(credentials).send_text(PSID, "hi", RESPONSE).delivered
    assert responses.calls[1].request.headers["Authorization"] == "Bearer new-token"


@responses.activate
def test_connection_failures_are_transient_and_say_nothing_of_the_url(captured_logs):
    import requests

    responses.post(SEND_URL, body=requests.ConnectionError("boom " + SEND_URL))
    with pytest.raises(GraphUnavailable) as raised:
        client().send_text(PSID, "hi", RESPONSE)
    assert str(raised.value) == "graph_unreachable"


@responses.activate
def test_non_json_4xx_is_permanent_with_the_http_status():
    responses.post(SEND_URL, body="<html>bad</html>", status=403)
    result = client().send_text(PSID, "hi", RESPONSE)
    assert (result.delivered, result.reason) == (False, "graph_http_403")


def test_delivery_window_rules():
    now = datetime(2026, 1, 10, tzinfo=UTC)
    assert delivery_for(now - timedelta(hours=23), now, False) == Delivery("RESPONSE")
    assert delivery_for(now - timedelta(hours=25), now, True) == Delivery("MESSAGE_TAG", tag="HUMAN_AGENT")
    assert delivery_for(now - timedelta(hours=25), now, False).skip_reason == "outside_window_tag_disabled"
    assert delivery_for(now - timedelta(days=8), now, True).skip_reason == "outside_window"
    assert delivery_for(None, now, True).skip_reason == "outside_window"


def test_attachment_kind_from_content_type():
    assert [attachment_kind(t) for t in ("image/png", "video/mp4", "audio/wav", "application/pdf", "")] == [
        "image",
        "video",
        "audio",
        "file",
        "file",
    ]


def test_page_credentials_adapter_rereads_only_when_asked():
    from chalicelib.messaging.meta.accounts import MetaAccounts
    from chalicelib.messaging.meta.secrets import MessengerCredentials
    from chalicelib.messaging.wiring import page_credentials

    class Secrets:
        reads = 0

        def current(self) -> MessengerCredentials:
            return MessengerCredentials("s", MetaAccounts(default_token="old"), "verify")

        def refresh(self) -> MessengerCredentials | None:
            Secrets.reads += 1
            return (
                MessengerCredentials("s", MetaAccounts(default_token="new"), "verify") if Secrets.reads == 1 else None
            )

    credentials = page_credentials(Secrets())
    assert credentials() == ("old", "s")
    assert credentials(refresh=True) == ("new", "s")
    assert credentials(refresh=True) == ("old", "s")  # nothing new (rate-limited): the cached value
