"""The Connect emulator through real boto3 clients: the wire protocol the app will meet in the sandbox."""

from __future__ import annotations

import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.connect.api import router
from sandbox.connect.attachments import AttachmentService
from sandbox.connect.model import CHAT_ENDED, JOINED, ConnectModel
from sandbox.httpkit import serve, url_of
from sandbox.lambdas import Invocation
from sandbox.ports import Reservation
from tests.sandbox.fakes import MemoryS3, ScriptedInvoker

INSTANCE = "11111111-2222-3333-4444-555555555555"
FLOW = "66666666-7777-8888-9999-000000000000"
TOPIC = "arn:aws:sns:us-east-1:123456789012:connect-guard-chat-stream"


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def emulator():
    clock = Clock()
    streamed: list[dict] = []
    model = ConnectModel(
        INSTANCE,
        FLOW,
        lambda arn: arn == TOPIC,
        lambda chat, item: streamed.append(item),
        connection_ttl_seconds=3600,
        clock=clock,
    )
    s3, invoker = MemoryS3(), ScriptedInvoker(attachment_scanner=[Invocation({"Status": "APPROVED"}, None)])
    reservation = Reservation()  # the service names its own URL before the server binds
    attachments = AttachmentService(
        model, s3, "bucket", "connect/test/Attachments/chat", invoker, f"http://127.0.0.1:{reservation.port}"
    )
    server = serve("test-connect", "127.0.0.1", reservation.port, router(model, attachments, s3))

    def client(service):
        return boto3.client(service, endpoint_url=url_of(server), region_name="us-east-1")

    yield type(
        "Emulator",
        (),
        {
            "model": model,
            "clock": clock,
            "streamed": streamed,
            "s3": s3,
            "invoker": invoker,
            "connect": client("connect"),
            "participant": client("connectparticipant"),
        },
    )
    server.shutdown()
    server.server_close()
    reservation.release()


def start(emulator, token="start-1"):
    chat = emulator.connect.start_chat_contact(
        InstanceId=INSTANCE,
        ContactFlowId=FLOW,
        ParticipantDetails={"DisplayName": "Messenger customer"},
        ClientToken=token,
        ChatDurationInMinutes=60,
        SupportedMessagingContentTypes=["text/plain"],
    )
    emulator.connect.start_contact_streaming(
        InstanceId=INSTANCE,
        ContactId=chat["ContactId"],
        ClientToken=token,
        ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC},
    )
    connection = emulator.participant.create_participant_connection(
        ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"], ConnectParticipant=True
    )
    return chat, connection["ConnectionCredentials"]["ConnectionToken"]


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"]


def test_a_chat_starts_streams_and_carries_messages_once_per_client_token(emulator):
    chat, token = start(emulator)
    first = emulator.participant.send_message(
        ConnectionToken=token, ContentType="text/plain", Content="hello", ClientToken="m_1"
    )
    again = emulator.participant.send_message(
        ConnectionToken=token, ContentType="text/plain", Content="hello", ClientToken="m_1"
    )
    assert first["Id"] == again["Id"]
    messages = [item for item in emulator.streamed if item["Type"] == "MESSAGE"]
    assert [m["Content"] for m in messages] == ["hello"]
    assert messages[0]["InitialContactId"] == chat["ContactId"] and messages[0]["ParticipantRole"] == "CUSTOMER"
    joined = [item["ParticipantRole"] for item in emulator.streamed if item["ContentType"] == JOINED]
    assert joined == ["CUSTOMER", "AGENT"]


def test_start_chat_contact_is_idempotent_and_checks_ids(emulator):
    kwargs = dict(InstanceId=INSTANCE, ContactFlowId=FLOW, ParticipantDetails={"DisplayName": "c"}, ClientToken="t")
    assert (
        emulator.connect.start_chat_contact(**kwargs)["ContactId"]
        == emulator.connect.start_chat_contact(**kwargs)["ContactId"]
    )
    assert len(emulator.model.chats()) == 1
    assert (
        error_code(emulator.connect.start_chat_contact, **{**kwargs, "InstanceId": "other", "ClientToken": "u"})
        == "ResourceNotFoundException"
    )
    assert (
        error_code(emulator.connect.start_chat_contact, **{**kwargs, "ContactFlowId": "x", "ClientToken": "v"})
        == "ResourceNotFoundException"
    )
    assert (
        error_code(
            emulator.connect.start_chat_contact, **{**kwargs, "Attributes": {"bad key": "v"}, "ClientToken": "w"}
        )
        == "InvalidParameterException"
    )


def test_connect_participant_needs_streaming_first(emulator):
    chat = emulator.connect.start_chat_contact(
        InstanceId=INSTANCE, ContactFlowId=FLOW, ParticipantDetails={"DisplayName": "c"}
    )
    assert (
        error_code(
            emulator.participant.create_participant_connection,
            ParticipantToken=chat["ParticipantToken"],
            Type=["CONNECTION_CREDENTIALS"],
            ConnectParticipant=True,
        )
        == "ValidationException"
    )


def test_streaming_needs_an_existing_topic(emulator):
    chat = emulator.connect.start_chat_contact(
        InstanceId=INSTANCE, ContactFlowId=FLOW, ParticipantDetails={"DisplayName": "c"}
    )
    assert (
        error_code(
            emulator.connect.start_contact_streaming,
            InstanceId=INSTANCE,
            ContactId=chat["ContactId"],
            ClientToken="t",
            ChatStreamingConfiguration={"StreamingEndpointArn": TOPIC + "-missing"},
        )
        == "InvalidParameterException"
    )


def test_expired_connection_token_is_access_denied_until_reconnected(emulator):
    chat, token = start(emulator)
    emulator.clock.now += 3601
    assert (
        error_code(emulator.participant.send_message, ConnectionToken=token, ContentType="text/plain", Content="hi")
        == "AccessDeniedException"
    )
    fresh = emulator.participant.create_participant_connection(
        ParticipantToken=chat["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
    )["ConnectionCredentials"]
    emulator.participant.send_message(ConnectionToken=fresh["ConnectionToken"], ContentType="text/plain", Content="hi")


def test_an_ended_chat_denies_every_participant_call(emulator):
    chat, token = start(emulator)
    emulator.model.agent_end_chat(chat["ContactId"])
    assert emulator.streamed[-1]["ContentType"] == CHAT_ENDED
    assert (
        error_code(emulator.participant.send_message, ConnectionToken=token, ContentType="text/plain", Content="hi")
        == "AccessDeniedException"
    )
    assert (
        error_code(
            emulator.participant.create_participant_connection,
            ParticipantToken=chat["ParticipantToken"],
            Type=["CONNECTION_CREDENTIALS"],
        )
        == "AccessDeniedException"
    )


def test_customer_disconnect_ends_the_chat(emulator):
    _chat, token = start(emulator)
    emulator.participant.disconnect_participant(ConnectionToken=token)
    assert [item["ContentType"].rsplit(".", 2)[-2:] for item in emulator.streamed[-2:]] == [
        ["participant", "left"],
        ["chat", "ended"],
    ]


def test_text_over_1024_characters_and_unknown_types_are_refused(emulator):
    _chat, token = start(emulator)
    assert (
        error_code(
            emulator.participant.send_message, ConnectionToken=token, ContentType="text/plain", Content="x" * 1025
        )
        == "ValidationException"
    )
    assert (
        error_code(emulator.participant.send_message, ConnectionToken=token, ContentType="text/html", Content="x")
        == "ValidationException"
    )
    assert (
        error_code(
            emulator.participant.send_event,
            ConnectionToken=token,
            ContentType="application/vnd.amazonaws.connect.event.bogus",
        )
        == "ValidationException"
    )


def test_unsigned_requests_are_refused():
    model = ConnectModel(INSTANCE, FLOW, lambda arn: True, lambda chat, item: None)
    attachments = AttachmentService(model, MemoryS3(), "bucket", "prefix", ScriptedInvoker(), "http://127.0.0.1:9")
    server = serve("test-connect", "127.0.0.1", 0, router(model, attachments, MemoryS3()))
    try:
        request = urllib.request.Request(url_of(server) + "/contact/chat", data=b"{}", method="PUT")
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request)
        assert raised.value.code == 403
        assert raised.value.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    finally:
        server.shutdown()
        server.server_close()


def _upload(emulator, token, name="photo.png", content_type="image/png", data=b"\x89PNG\r\n\x1a\n-bytes"):
    started = emulator.participant.start_attachment_upload(
        ConnectionToken=token,
        ContentType=content_type,
        AttachmentSizeInBytes=len(data),
        AttachmentName=name,
        ClientToken="up-" + name,
    )
    meta = started["UploadMetadata"]
    request = urllib.request.Request(meta["Url"], data=data, method="PUT", headers=meta["HeadersToInclude"])
    urllib.request.urlopen(request).close()
    return started["AttachmentId"]


def test_attachment_upload_scan_and_download(emulator):
    chat, token = start(emulator)
    attachment_id = _upload(emulator, token)
    emulator.participant.complete_attachment_upload(
        ConnectionToken=token, AttachmentIds=[attachment_id], ClientToken="c-1"
    )
    emulator.participant.complete_attachment_upload(
        ConnectionToken=token, AttachmentIds=[attachment_id], ClientToken="c-1"
    )  # a retry: no second scan
    scans = [event for name, event in emulator.invoker.events if name == "attachment_scanner"]
    assert len(scans) == 1
    location = scans[0]["File"]["FileLocation"]["S3Location"]
    assert scans[0]["File"]["FileId"] == attachment_id and location["Bucket"] == "bucket"
    assert ("bucket", location["Key"]) in emulator.s3.objects
    item = emulator.streamed[-1]
    assert item["Type"] == "ATTACHMENT" and item["Attachments"][0]["Status"] == "APPROVED"
    url = emulator.participant.get_attachment(ConnectionToken=token, AttachmentId=attachment_id)["Url"]
    assert {
        op: emulator.model.calls[op] for op in ("StartAttachmentUpload", "CompleteAttachmentUpload", "GetAttachment")
    } == {"StartAttachmentUpload": 1, "CompleteAttachmentUpload": 2, "GetAttachment": 1}
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == b"\x89PNG\r\n\x1a\n-bytes"


def test_rejected_attachment_vanishes(emulator):
    emulator.invoker.outcomes["attachment_scanner"] = [Invocation({"Status": "REJECTED"}, None)]
    _chat, token = start(emulator)
    attachment_id = _upload(emulator, token, "invoice.pdf", "application/pdf", b"MZ\x90\x00not a pdf")
    emulator.participant.complete_attachment_upload(
        ConnectionToken=token, AttachmentIds=[attachment_id], ClientToken="c-2"
    )
    assert emulator.streamed[-1]["Attachments"][0]["Status"] == "REJECTED"
    assert emulator.s3.objects == {}
    assert (
        error_code(emulator.participant.get_attachment, ConnectionToken=token, AttachmentId=attachment_id)
        == "ValidationException"
    )


def test_a_failing_scanner_is_retried_then_the_file_rejected(emulator):
    emulator.invoker.outcomes["attachment_scanner"] = [Invocation(None, "RuntimeError")]
    _chat, token = start(emulator)
    attachment_id = _upload(emulator, token)
    emulator.participant.complete_attachment_upload(
        ConnectionToken=token, AttachmentIds=[attachment_id], ClientToken="c-3"
    )
    assert sum(1 for name, _ in emulator.invoker.events if name == "attachment_scanner") == 3
    assert emulator.streamed[-1]["Attachments"][0]["Status"] == "REJECTED"


def test_upload_must_send_exactly_the_headers_to_include(emulator):
    _chat, token = start(emulator)
    started = emulator.participant.start_attachment_upload(
        ConnectionToken=token,
        ContentType="image/png",
        AttachmentSizeInBytes=4,
        AttachmentName="a.png",
        ClientToken="u-1",
    )
    request = urllib.request.Request(
        started["UploadMetadata"]["Url"],
        data=b"abcd",
        method="PUT",
        headers={"Content-Type": "application/octet-stream"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    assert raised.value.code == 403
    assert (
        error_code(
            emulator.participant.complete_attachment_upload,
            ConnectionToken=token,
            AttachmentIds=[started["AttachmentId"]],
            ClientToken="c",
        )
        == "ValidationException"
    )


def test_disallowed_extension_is_refused_at_start(emulator):
    _chat, token = start(emulator)
    assert (
        error_code(
            emulator.participant.start_attachment_upload,
            ConnectionToken=token,
            ContentType="application/x-msdownload",
            AttachmentSizeInBytes=4,
            AttachmentName="run.exe",
            ClientToken="u-2",
        )
        == "ValidationException"
    )


def test_chats_the_customer_never_joins_end_after_five_minutes(emulator):
    chat = emulator.connect.start_chat_contact(
        InstanceId=INSTANCE, ContactFlowId=FLOW, ParticipantDetails={"DisplayName": "c"}
    )
    emulator.clock.now += 301
    emulator.model.tick()
    assert emulator.model.chat(chat["ContactId"]).ended
