"""Through the real entry point: `attachment_scanner` as Chalice invokes it."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from chalicelib import aws
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.reasons import Reason
from chalicelib.scanning.scanner import AttachmentScanner
from sandbox.ports import reserved_port
from tests.scanning import files
from tests.scanning.helpers import BUCKET, FILE_ID, event, key_for, scanner_settings

PII_NAME = "John Smith SSN 078-05-1120 passport.pdf"


def upload(s3, name: str, data: bytes) -> dict:
    s3.put_object(Bucket=BUCKET, Key=key_for(name), Body=data)
    return event(name, len(data))


def decision_lines(captured_logs) -> list[dict]:
    return [line for line in captured_logs.events() if line.get("event") == "scan_decision"]


def test_clean_pdf_is_approved_and_logged_without_the_file_name(chalice_client, s3, captured_logs):
    response = chalice_client.lambda_.invoke("attachment_scanner", upload(s3, PII_NAME, files.pdf()))
    assert response.payload == {"Status": "APPROVED"}
    [line] = decision_lines(captured_logs)
    assert line["file_id"] == FILE_ID
    assert line["reason"] == "clean" and line["status"] == "APPROVED"
    assert line["detected_type"] == "pdf" and line["extension"] == "pdf"
    assert line["declared_bytes"] == line["object_bytes"] == len(files.pdf())
    assert line["bytes_read"] > 0 and line["elapsed_ms"] >= 0
    captured_logs.assert_absent("John", "Smith", "078-05-1120", "passport")


def test_hostile_pdf_is_rejected_by_reason_code(chalice_client, s3, captured_logs):
    data = files.pdf("/Names << /J#61vaScript 9 0 R >>")
    response = chalice_client.lambda_.invoke("attachment_scanner", upload(s3, PII_NAME, data))
    assert response.payload == {"Status": "REJECTED"}
    assert decision_lines(captured_logs)[0]["reason"] == "pdf_javascript"
    captured_logs.assert_absent("John", "Smith", "078-05-1120", "J#61vaScript")


def test_an_id_shaped_file_name_and_key_never_reach_the_logs(chalice_client, s3, captured_logs):
    """The log sanitiser would let these through (no spaces, no digit runs): only not logging them keeps them out."""
    name, key = "jane.doe-passport-canary.pdf", "connect/inst/Attachments/chat/jane.doe-key-canary.pdf"
    s3.put_object(Bucket=BUCKET, Key=key, Body=files.pdf())
    response = chalice_client.lambda_.invoke("attachment_scanner", event(name, len(files.pdf()), key=key))
    assert response.payload == {"Status": "APPROVED"}
    assert decision_lines(captured_logs)
    captured_logs.assert_absent("jane.doe", "canary", "Attachments/chat")


def test_image_is_moderated_by_s3_location(chalice_client, s3, captured_logs):
    request = upload(s3, "selfie.jpg", files.jpeg())
    rekognition = aws.client("rekognition")
    with Stubber(rekognition) as stub:
        stub.add_response(
            "detect_moderation_labels",
            {
                "ModerationLabels": [
                    {"Name": "Hate Symbols", "Confidence": 99.0, "ParentName": "", "TaxonomyLevel": 1}
                ],
                "ModerationModelVersion": "7.0",
            },
            {"Image": {"S3Object": {"Bucket": BUCKET, "Name": key_for("selfie.jpg")}}, "MinConfidence": 80.0},
        )
        response = chalice_client.lambda_.invoke("attachment_scanner", request)
    assert response.payload == {"Status": "REJECTED"}
    [line] = decision_lines(captured_logs)
    assert (line["reason"], line["detail"]) == ("image_moderated", "Hate_Symbols")
    [result] = [e for e in captured_logs.events() if e.get("event") == "moderation_result"]
    assert (result["model_version"], result["labels"], result["flagged"]) == ("7.0", 1, True)


def test_rekognition_failure_rejects(chalice_client, s3, captured_logs):
    request = upload(s3, "selfie.png", files.png())
    with Stubber(aws.client("rekognition")) as stub:
        stub.add_client_error("detect_moderation_labels", "ThrottlingException", http_status_code=400)
        response = chalice_client.lambda_.invoke("attachment_scanner", request)
    assert response.payload == {"Status": "REJECTED"}
    assert decision_lines(captured_logs)[0]["detail"] == "ThrottlingException"


@pytest.mark.parametrize(
    "bad_event",
    [
        None,
        [],
        "File",
        {},
        {"File": None},
        {"File": {"FileId": "x"}},
        {
            "File": {
                "FileId": "x",
                "FileName": "a.pdf",
                "FileSizeInBytes": "10",
                "FileLocation": {"S3Location": {"Bucket": BUCKET, "Key": "k"}},
            }
        },
        {
            "File": {
                "FileId": "x",
                "FileName": "a.pdf",
                "FileSizeInBytes": -1,
                "FileLocation": {"S3Location": {"Bucket": BUCKET, "Key": "k"}},
            }
        },
        {
            "File": {
                "FileId": "x",
                "FileName": "a.pdf",
                "FileSizeInBytes": True,
                "FileLocation": {"S3Location": {"Bucket": BUCKET, "Key": "k"}},
            }
        },
        {
            "File": {
                "FileId": "x",
                "FileName": "a.pdf",
                "FileSizeInBytes": 10,
                "FileLocation": {"S3Location": {"Bucket": BUCKET, "Key": "k" * 2000}},
            }
        },
        {
            "File": {
                "FileId": "",
                "FileName": "a.pdf",
                "FileSizeInBytes": 10,
                "FileLocation": {"S3Location": {"Bucket": BUCKET, "Key": "k"}},
            }
        },
        {
            "File": {
                "FileId": "x",
                "FileName": ["a.pdf"],
                "FileSizeInBytes": 10,
                "FileLocation": {"S3Location": {"Bucket": BUCKET, "Key": "k"}},
            }
        },
    ],
)
def test_malformed_events_are_rejected_not_raised(chalice_client, captured_logs, bad_event):
    response = chalice_client.lambda_.invoke("attachment_scanner", bad_event)
    assert response.payload == {"Status": "REJECTED"}
    assert decision_lines(captured_logs)[0]["reason"] == "event_malformed"


def test_response_has_exactly_the_documented_shape(chalice_client, s3):
    response = chalice_client.lambda_.invoke("attachment_scanner", upload(s3, "a.txt", files.txt()))
    assert json.loads(json.dumps(response.payload)) == {"Status": "APPROVED"}


def test_duplicate_invocations_give_the_same_answer(chalice_client, s3):
    request = upload(s3, "a.docx", files.docm_renamed())
    answers = {chalice_client.lambda_.invoke("attachment_scanner", request).payload["Status"] for _ in range(3)}
    assert answers == {"REJECTED"}


def test_invalid_scanner_settings_reject(chalice_client, s3, captured_logs, monkeypatch):
    monkeypatch.setenv("SCAN_MAX_BYTES", "lots")
    response = chalice_client.lambda_.invoke("attachment_scanner", upload(s3, "a.txt", files.txt()))
    assert response.payload == {"Status": "REJECTED"}
    [line] = decision_lines(captured_logs)
    assert (line["reason"], line["detail"]) == ("settings_invalid", "SCAN_MAX_BYTES")
    captured_logs.assert_absent("lots")


def test_scanner_does_not_need_messaging_settings(chalice_client, s3, monkeypatch):
    for name in ("CONNECT_INSTANCE_ID", "SESSIONS_TABLE", "MESSENGER_SECRET_ID", "CONNECT_CONTACT_FLOW_ID"):
        monkeypatch.delenv(name, raising=False)
    response = chalice_client.lambda_.invoke("attachment_scanner", upload(s3, "a.txt", files.txt()))
    assert response.payload == {"Status": "APPROVED"}


class NearlyOutOfTime:
    def get_remaining_time_in_millis(self):
        return 800


def test_context_near_its_deadline_rejects_without_reading(s3, captured_logs, monkeypatch):
    import app

    monkeypatch.setenv("SCAN_DEADLINE_MARGIN_MS", "1000")
    request = upload(s3, "a.pdf", files.pdf())
    response = app.attachment_scanner(request, NearlyOutOfTime())
    assert response == {"Status": "REJECTED"}
    [line] = decision_lines(captured_logs)
    assert line["reason"] == "deadline_exceeded" and line["bytes_read"] == 0


def test_a_stuck_dependency_is_abandoned_at_the_deadline(captured_logs):
    import threading

    release = threading.Event()

    def hanging(bucket, key, deadline):
        release.wait(5)
        raise RuntimeError("too late")

    scanner = AttachmentScanner(scanner_settings(), hanging, None)
    try:
        verdict = scanner.decide(event("a.pdf", 10), Deadline.after(0.2))
    finally:
        release.set()
    assert verdict.reason is Reason.DEADLINE_EXCEEDED
    assert decision_lines(captured_logs)[0]["elapsed_ms"] < 2000


def test_deadline_from_context_respects_budget_and_margin():
    class Context:
        def __init__(self, ms):
            self.ms = ms

        def get_remaining_time_in_millis(self):
            return self.ms

    assert 19.0 < Deadline.for_invocation(Context(60000), 20000, 1000).remaining() <= 20.0
    assert 3.0 < Deadline.for_invocation(Context(5000), 20000, 1000).remaining() <= 4.0
    assert Deadline.for_invocation(Context(500), 20000, 1000).remaining() <= 0
    assert 19.0 < Deadline.for_invocation(None, 20000, 1000).remaining() <= 20.0


def test_a_failure_while_building_the_scanner_is_a_rejection_not_an_exception(
    chalice_client, monkeypatch, captured_logs
):
    from chalicelib.scanning import wiring

    def broken(config):
        raise RuntimeError("boom")

    monkeypatch.setattr(wiring, "build", broken)
    response = chalice_client.lambda_.invoke("attachment_scanner", event("a.pdf", 10))
    assert response.payload == {"Status": "REJECTED"}
    [line] = decision_lines(captured_logs)
    assert line["reason"] == "internal_error"


def test_eicar_is_rejected_as_malware_through_clamd(chalice_client, s3, captured_logs, clamd, monkeypatch):
    from sandbox.clamd import EICAR, EICAR_SIGNATURE

    monkeypatch.setenv("SCAN_ANTIVIRUS", "clamav")
    monkeypatch.setenv("SCAN_CLAMAV_ADDRESS", clamd.address)
    response = chalice_client.lambda_.invoke("attachment_scanner", upload(s3, PII_NAME.replace(".pdf", ".txt"), EICAR))
    assert response.payload == {"Status": "REJECTED"}
    [line] = decision_lines(captured_logs)
    assert line["reason"] == "malware" and line["detail"] == EICAR_SIGNATURE  # the signature, never the file name
    captured_logs.assert_absent("John", "Smith", "078-05-1120", "passport")


def test_clamd_down_is_rejected_through_the_entry_point(chalice_client, s3, captured_logs, monkeypatch):
    with reserved_port() as port:  # held, so nothing can listen on it
        monkeypatch.setenv("SCAN_ANTIVIRUS", "clamav")
        monkeypatch.setenv("SCAN_CLAMAV_ADDRESS", f"127.0.0.1:{port}")
        response = chalice_client.lambda_.invoke("attachment_scanner", upload(s3, "notes.txt", files.txt()))
    assert response.payload == {"Status": "REJECTED"}
    assert decision_lines(captured_logs)[0]["reason"] == "antivirus_unavailable"
