"""Customer -> agent attachments: download streamed and capped, typed from bytes, uploaded to Connect with
exactly the presigned headers; refusals become a note for the agent and a polite message for the customer."""

import io
import re
import time
import zipfile

import pytest
import responses
from botocore.stub import ANY, Stubber

from chalicelib.messaging.attachment_relay import AttachmentRelay
from chalicelib.messaging.connect.attachments import ConnectAttachments
from chalicelib.messaging.connect.chat import ChatGone, ConnectChat
from chalicelib.messaging.deadline import Deadline
from chalicelib.messaging.errors import PermanentError, TransientError
from chalicelib.messaging.http import build_session
from chalicelib.messaging.meta.cdn import AttachmentDownloader
from chalicelib.messaging.meta.download_policy import DownloadPolicy, HostList
from chalicelib.messaging.meta.send_api import MessengerClient
from chalicelib.messaging.meta.webhook import Attachment
from chalicelib.messaging.store.sessions import ChatSession
from tests.messaging.connect_expectations import text_request
from tests.messaging.fakes import MemoryDedupe
from tests.messaging.fixtures import FLOW_ID, INSTANCE_ID, SECRET, TOPIC_ARN, stubbed_client

CDN = "https://lookaside.fbsbx.test/ig_messaging_cdn/?asset_id=1&signature=canary-cdn-sig"
# The test CDN's name resolves to a public address (no DNS in tests); `responses` answers for it.
CDN_POLICY = DownloadPolicy(HostList.parse(["*.fbsbx.test"]), resolve=lambda host, port: ["157.240.0.1"])
UPLOAD = "https://connect-staging.test/upload/att-1?X-Amz-Signature=s3sig"
SEND_URL = "https://graph.facebook.com/v25.0/me/messages"
CONNECTION = "connection-token-canary-relay"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
HEADERS = {"Content-Type": "image/png", "x-amz-meta-contact": "abc"}


class Session:
    session = ChatSession(
        channel="messenger",
        customer_id="24000000000000001",
        contact_id="contact-1",
        participant_token="p",
        connection_token=CONNECTION,
        connection_expires_at=time.time() + 3600,
        last_customer_message_at=time.time(),
        expires_at=int(time.time()) + 3600,
    )


class RecordedRelay(AttachmentRelay):
    """The relay under test, with what the tests drive and read: Connect's stub, the web's mock, and the
    Connect Participant calls made (operation, parameters)."""

    stub: Stubber
    web: responses.RequestsMock
    calls: list[tuple[str, dict]]


@pytest.fixture
def relay():
    participant, stub = stubbed_client("connectparticipant")
    http = build_session(backoff_factor=0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as web, stub:
        messenger = MessengerClient(
            "https://graph.facebook.com/v25.0",
            lambda refresh=False, account=None: (SECRET["PAGE_TOKEN"], SECRET["APP_SECRET"]),
            session=http,
            sleep=lambda s: None,
        )
        chat = ConnectChat(None, participant, INSTANCE_ID, FLOW_ID, TOPIC_ARN, 1500)
        built = RecordedRelay(
            AttachmentDownloader(CDN_POLICY, max_bytes=1000),
            ConnectAttachments(participant, http),
            chat,
            messenger,
            frozenset({"png", "jpg", "pdf", "docx"}),
            max_bytes=1000,
            notices=MemoryDedupe(),
        )
        built.stub, built.web, built.calls = stub, web, []
        participant.meta.events.register(
            "provide-client-params.connectparticipant",
            lambda params, model, **_: built.calls.append((model.name, dict(params))),
        )
        yield built
        stub.assert_no_pending_responses()


def expect_upload(relay, content_type="image/png", size=len(PNG), complete=True):
    relay.stub.add_response(
        "start_attachment_upload",
        {
            "AttachmentId": "att-1",
            "UploadMetadata": {"Url": UPLOAD, "UrlExpiry": "2026-01-01T00:00:00Z", "HeadersToInclude": HEADERS},
        },
        {
            "ConnectionToken": CONNECTION,
            "ContentType": content_type,
            "AttachmentSizeInBytes": size,
            "AttachmentName": ANY,
            "ClientToken": ANY,
        },
    )
    if complete:
        relay.stub.add_response(
            "complete_attachment_upload",
            {},
            {"ConnectionToken": CONNECTION, "AttachmentIds": ["att-1"], "ClientToken": ANY},
        )


def expect_note(relay, text):
    relay.stub.add_response(
        "send_message",
        {"Id": "n1", "AbsoluteTime": "2026-01-01T00:00:00Z"},
        text_request(CONNECTION, text),
    )


def customer_texts(relay):
    import json

    return [
        json.loads(c.request.body)["message"]["text"] for c in relay.web.calls if c.request.url.startswith(SEND_URL)
    ]


def test_image_is_uploaded_with_exactly_the_presigned_headers(relay):
    relay.web.get(CDN, body=PNG, content_type="application/octet-stream")
    relay.web.put(UPLOAD, status=200)
    expect_upload(relay)
    assert relay.relay(Session.session, Attachment("image", CDN), "token-1") == "attachment_uploaded"
    put = [c.request for c in relay.web.calls if c.request.method == "PUT"][0]
    sent_headers = {k.lower() for k in put.headers}
    assert sent_headers - {"content-length"} == {k.lower() for k in HEADERS}
    assert put.headers["Content-Type"] == "image/png" and put.headers["Content-Length"] == str(len(PNG))


def test_type_comes_from_the_bytes_not_the_url_or_header(relay):
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("word/document.xml", "<x/>")
    body = docx.getvalue()
    relay.web.get(CDN, body=body, content_type="image/jpeg")
    relay.web.put(UPLOAD, status=200)
    expect_upload(relay, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", len(body))
    assert relay.relay(Session.session, Attachment("file", CDN), "token-2") == "attachment_uploaded"


def test_disallowed_type_gets_a_note_and_a_polite_message(relay):
    relay.web.get(CDN, body=b"GIF89a\x01\x00\x01\x00\x80\x00\x00")
    relay.web.post(SEND_URL, json={"message_id": "m"})
    expect_note(relay, "[customer tried to send a type of file that cannot be shared here; not delivered]")
    assert relay.relay(Session.session, Attachment("image", CDN), "token-3") == "attachment_type_not_accepted"
    assert customer_texts(relay) == [
        "Sorry, we can't accept that type of file here. Photos, PDFs and Office documents are fine."
    ]


@pytest.mark.parametrize("declared", [True, False])
def test_oversize_is_refused_whether_declared_or_discovered(relay, declared):
    big = b"%PDF-" + b"x" * 2000
    if declared:
        relay.web.get(CDN, body=big)
    else:  # chunked: no Content-Length, the cap trips while reading
        relay.web.get(CDN, body=big, auto_calculate_content_length=False, stream=True)
    relay.web.post(SEND_URL, json={"message_id": "m"})
    expect_note(relay, "[customer tried to send a file over the 1 MB limit; not delivered]")
    assert relay.relay(Session.session, Attachment("file", CDN), "token-4") == "attachment_too_large"
    assert "too large" in customer_texts(relay)[0]


def test_expired_cdn_url_is_permanent_with_note_and_message(relay):
    relay.web.get(CDN, status=403)
    relay.web.post(SEND_URL, json={"message_id": "m"})
    expect_note(relay, "[customer sent a file that could not be delivered]")
    assert relay.relay(Session.session, Attachment("video", CDN), "token-5") == "attachment_download_refused"
    assert customer_texts(relay) == ["Sorry, we couldn't receive your file. Please try sending it again."]


def test_cdn_outage_is_transient(relay):
    relay.web.get(CDN, status=503)
    with pytest.raises(TransientError):
        relay.relay(Session.session, Attachment("image", CDN), "token-6")


def test_connect_refusing_the_upload_quota_is_answered_politely(relay):
    relay.web.get(CDN, body=PNG)
    relay.web.post(SEND_URL, json={"message_id": "m"})
    relay.stub.add_client_error("start_attachment_upload", "ServiceQuotaExceededException", http_status_code=402)
    expect_note(relay, "[customer sent a file that could not be delivered]")
    assert relay.relay(Session.session, Attachment("image", CDN), "token-7") == "connect_rejected"


def test_ended_chat_surfaces_as_chat_gone_for_the_inbound_recovery(relay):
    relay.web.get(CDN, body=PNG)
    relay.stub.add_client_error("start_attachment_upload", "AccessDeniedException", http_status_code=403)
    with pytest.raises(ChatGone):
        relay.relay(Session.session, Attachment("image", CDN), "token-8")


def test_presigned_put_failure_is_transient(relay):
    relay.web.get(CDN, body=PNG)
    relay.web.put(UPLOAD, status=500)
    expect_upload(relay, complete=False)
    with pytest.raises(TransientError):
        relay.relay(Session.session, Attachment("image", CDN), "token-9")


def test_presigned_put_rejection_is_permanent_and_answered(relay):
    relay.web.get(CDN, body=PNG)
    relay.web.put(UPLOAD, status=403)
    relay.web.post(SEND_URL, json={"message_id": "m"})
    expect_upload(relay, complete=False)
    expect_note(relay, "[customer sent a file that could not be delivered]")
    assert relay.relay(Session.session, Attachment("image", CDN), "token-11") == "attachment_put_rejected"


def test_a_customer_file_keeps_its_name_made_safe_and_its_real_extension(relay):
    url = "https://cdn.fbsbx.test/v/t59/123_x/Q3%20r%C3%A9sum%C3%A9%3Cb%3E.csv?_nc_cat=1&sig=canary"
    relay._allowed = relay._allowed | {"csv"}  # the instance allows CSV (Connect's default list does)
    relay.web.get(url, body=b"name,total\r\n=cmd|' /C calc'!A0,1\r\n")
    relay.web.put(UPLOAD, status=200)
    expect_upload(relay, content_type="text/csv", size=len(b"name,total\r\n=cmd|' /C calc'!A0,1\r\n"))
    relay.relay(Session.session, Attachment("file", url), "token-13")
    start = [c for c in relay.calls if c[0] == "StartAttachmentUpload"][0][1]
    # a CSV stays a CSV, so the scanner judges its formulas exactly as it does the agent's copy
    assert start["AttachmentName"] == "Q3 r_sum_b.csv"
    relay.web.get(url.replace(".csv", ".pdf"), body=PNG)  # the bytes decide the extension, not the name
    relay.web.put(UPLOAD, status=200)
    expect_upload(relay)
    relay.relay(Session.session, Attachment("file", url.replace(".csv", ".pdf")), "token-14")
    start = [c for c in relay.calls if c[0] == "StartAttachmentUpload"][-1][1]
    assert start["AttachmentName"] == "Q3 r_sum_b.png"


def test_images_are_named_by_us_never_after_the_url(relay):
    relay.web.get(CDN, body=PNG)
    relay.web.put(UPLOAD, status=200)
    expect_upload(relay)
    relay.relay(Session.session, Attachment("image", CDN), "token-12")
    start = [c for c in relay.calls if c[0] == "StartAttachmentUpload"][0][1]
    assert re.fullmatch(r"messenger-image-[0-9a-f]{12}\.png", start["AttachmentName"])


def test_a_trickling_download_is_abandoned_at_the_deadline():
    ticks = iter(range(1000))  # the clock moves a second each time it is read
    downloader = AttachmentDownloader(CDN_POLICY, max_bytes=10_000_000)
    deadline = Deadline(8, clock=lambda: next(ticks))
    with responses.RequestsMock() as web:
        web.get(CDN, body=b"%PDF-" + b"x" * 300_000)  # five chunks; the budget is gone after two
        with pytest.raises(PermanentError) as raised, downloader.fetch(CDN, deadline):
            pass
    assert raised.value.reason == "attachment_deadline_exceeded"


def test_stickers_and_locations_become_notes(relay):
    expect_note(relay, "[customer sent a sticker]")
    expect_note(relay, "[customer sent a location]")
    assert (
        relay.relay(Session.session, Attachment("image", CDN, sticker_id="369239263222822"), "t")
        == "attachment_not_media"
    )
    assert relay.relay(Session.session, Attachment("location", None), "t2") == "attachment_not_media"


def test_customer_notice_failure_does_not_fail_the_relay(relay):
    relay.web.get(CDN, body=b"GIF89a")
    relay.web.post(SEND_URL, json={"error": {"code": 1}}, status=500)
    expect_note(relay, "[customer tried to send a type of file that cannot be shared here; not delivered]")
    assert relay.relay(Session.session, Attachment("image", CDN), "t") == "attachment_type_not_accepted"


def test_nothing_about_the_file_reaches_the_logs(relay, captured_logs):
    relay.web.get(CDN, body=PNG)
    relay.web.put(UPLOAD, status=200)
    expect_upload(relay)
    relay.relay(Session.session, Attachment("image", CDN), "token-10")
    captured_logs.assert_absent("canary-cdn-sig", "s3sig", CONNECTION, "lookaside")
    assert any(e["event"] == "attachment_relayed" and e["size"] == len(PNG) for e in captured_logs.events())


def test_the_customer_hears_of_a_refused_file_once_across_webhook_retries(relay):
    """Meta redelivers the whole message when a later step failed: the agent's note is idempotent through
    its ClientToken, the customer's notice through the dedupe log."""
    for _ in range(2):
        relay.web.get(CDN, body=b"GIF89a\x01\x00\x01\x00\x80\x00\x00")
        relay.web.post(SEND_URL, json={"message_id": "m"})
        expect_note(relay, "[customer tried to send a type of file that cannot be shared here; not delivered]")
        assert relay.relay(Session.session, Attachment("image", CDN), "token-5") == "attachment_type_not_accepted"
    assert len(customer_texts(relay)) == 1


def test_a_url_off_metas_cdn_is_never_fetched_and_the_agent_is_told(relay, captured_logs):
    """Issue 17: the relay fetched any http(s) URL (the Lambda runtime API at 127.0.0.1:9001 included)."""
    relay.web.post(SEND_URL, json={"message_id": "m"})
    expect_note(relay, "[customer sent a file that could not be fetched; not delivered]")
    runtime_api = "http://2130706433:9001/2018-06-01/runtime/invocation/next?canary-runtime"
    assert relay.relay(Session.session, Attachment("file", runtime_api), "token-ssrf") == "attachment_scheme_refused"
    assert not [c for c in relay.web.calls if c.request.method == "GET"]
    assert customer_texts(relay) == ["Sorry, we couldn't receive your file. Please try sending it again."]
    captured_logs.assert_absent("canary-runtime", "2130706433")


def test_a_download_past_the_webhook_deadline_is_a_note_and_a_message_not_a_loop(relay):
    """The budget is the webhook call's: once gone, the file is not fetched; the agent and the customer are
    told (a redelivery would meet the same slow server, for hours)."""
    relay.web.post(SEND_URL, json={"message_id": "m"})
    expect_note(relay, "[customer sent a file that could not be fetched in time; not delivered]")
    now = [0.0]
    spent = Deadline(15, clock=lambda: now[0])
    now[0] = 15.0  # earlier attachments of the same call used it all
    assert relay.relay(Session.session, Attachment("image", CDN), "token-late", spent) == "attachment_deadline_exceeded"
    assert not relay.web.calls[:-1]  # only the customer's notice: no download started
    assert customer_texts(relay) == ["Sorry, we couldn't receive your file in time. Please try sending it again."]
