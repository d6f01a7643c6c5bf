"""infra/flow_files.py: switches, placeholders and the content Connect receives."""

from __future__ import annotations

import json

import pytest

from infra import flow_checks
from infra.flow_files import PLACEHOLDER, PLACEHOLDERS, FlowError, content_text, fill, load, load_all, render

CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIB"quoted"\n-----END CERTIFICATE-----\n'
VALUES = {
    "IvrDecryptorArn": "arn:aws:lambda:us-east-1:123456789012:function:connect-guard-prod-ivr_decryptor",
    "MessageProcessorArn": "arn:aws:lambda:us-east-1:123456789012:function:connect-guard-prod-message_processor",
    "IvrEncryptionKeyId": "a5ecd749-4bd8-4a94-bfde-27eefe4f12b1",
    "IvrCertificate": CERTIFICATE,
    "QueueArn": "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/queue/q-1",
}


def test_every_placeholder_used_is_documented_and_every_documented_one_is_used():
    used = set().union(*(f.placeholders() for f in load_all()))
    assert used == set(PLACEHOLDERS)


@pytest.mark.parametrize("key", ["secure-ivr", "chat-redaction", "messenger-inbound"])
def test_rendered_content_has_every_placeholder_filled_and_still_keeps_the_invariants(key):
    flow = render(load(key), VALUES, {"MESSENGER_USE_PROCESSOR": True})
    text = content_text(flow)
    assert not PLACEHOLDER.search(text)
    assert json.loads(text) == flow
    assert "ConnectGuard" not in flow["Metadata"]
    assert set(flow["Metadata"]["ActionMetadata"]) == {a["Identifier"] for a in flow["Actions"]}
    assert (
        flow_checks.problems(
            flow, decryptor_arns=[VALUES["IvrDecryptorArn"]], flow_key=key, settings={"MESSENGER_USE_PROCESSOR": True}
        )
        == []
    )
    assert len(text) < 256_000


def test_a_certificate_keeps_its_newlines_and_quotes_as_json_string_content():
    flow = render(load("secure-ivr"), VALUES, {})
    inputs = [a for a in flow["Actions"] if a["Type"] == "GetParticipantInput"]
    assert [a["Parameters"]["InputEncryption"]["Key"] for a in inputs] == [CERTIFICATE, CERTIFICATE]
    assert "\\n" in content_text(flow)


def test_a_missing_or_empty_value_is_an_error_naming_the_placeholder():
    with pytest.raises(FlowError, match="secure-ivr: no value for placeholder.*IvrCertificate"):
        render(load("secure-ivr"), {k: v for k, v in VALUES.items() if k != "IvrCertificate"}, {})
    with pytest.raises(FlowError, match="empty value for placeholder.*QueueArn"):
        render(load("chat-redaction"), {**VALUES, "QueueArn": " "}, {})


def test_a_value_that_looks_like_a_placeholder_is_not_expanded_again():
    flow = fill({"Actions": [{"Parameters": {"a": "{{QueueArn}}"}}]}, {"QueueArn": "{{IvrCertificate}}"})
    assert flow["Actions"][0]["Parameters"]["a"] == "{{IvrCertificate}}"


def test_the_messenger_switch_removes_the_processor_and_rewires_the_start():
    off = render(load("messenger-inbound"), VALUES, {"MESSENGER_USE_PROCESSOR": False})
    on = render(load("messenger-inbound"), VALUES, {"MESSENGER_USE_PROCESSOR": True})
    assert off["StartAction"] == "set-queue" and on["StartAction"] == "processor-on"
    assert VALUES["MessageProcessorArn"] not in content_text(off)
