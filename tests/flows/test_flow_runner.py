"""sandbox/flow_runner.py runs the real secure-ivr.json end to end: digits encrypted as Connect does, the real
decryptor use case, each branch, and logging off at every block that ran while the digits existed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.flow_files import load, render
from sandbox.flow_runner import FlowRun, FlowRunError, run_chat_entry, run_secure_ivr, secrets_in
from sandbox.lambdas import Invocation

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "connect-encrypted-input"
KEY_ID = "a5ecd749-4bd8-4a94-bfde-27eefe4f12b1"  # the public test vector's key (README there)
DECRYPTOR = "arn:aws:lambda:us-east-1:123456789012:function:connect-guard-local-ivr_decryptor"
VALUES = {
    "IvrDecryptorArn": DECRYPTOR,
    "IvrEncryptionKeyId": KEY_ID,
    "IvrCertificate": (FIXTURE_DIR / "test.connect.certificate.pem").read_text(),
    "MessageProcessorArn": "arn:aws:lambda:us-east-1:123456789012:function:connect-guard-local-message_processor",
    "QueueArn": "arn:aws:connect:us-east-1:123456789012:instance/i/queue/q-basic",
}
CARD = "4111111111111111"
NOT_A_CARD = "4111111111111112"  # Luhn fails


@pytest.fixture(scope="module")
def decrypt():
    """The real use case with the vector's private key: what ivr_decryptor runs."""
    from chalicelib.ivr.decryptor import Decryptor
    from chalicelib.ivr.keys import KeyStore
    from chalicelib.ivr.request import IvrRequest

    private = (FIXTURE_DIR / "test.private.key").read_bytes()
    decryptor = Decryptor(
        KeyStore(lambda: {KEY_ID: private}, ttl_seconds=900, refresh_min_seconds=10),
        max_ciphertext_chars=4096,
        return_value=True,
    )
    calls: list[dict[str, Any]] = []

    def invoke(arn: str, event: dict[str, Any]) -> dict[str, str] | None:
        assert arn == DECRYPTOR
        calls.append(event)
        return decryptor.handle(IvrRequest.from_event(event))

    invoke.calls = calls  # type: ignore[attr-defined]
    return invoke


def encrypt(digits: str, key_id: str, certificate: str) -> str:
    from chalicelib.ivr.esdk import encrypt_like_connect

    return encrypt_like_connect(digits, certificate.encode(), key_id)


def ivr(entries: list[str], invoke, flow=None) -> FlowRun:
    return run_secure_ivr(flow or render(load("secure-ivr"), VALUES, {}), entries, encrypt, invoke)


def path(run: FlowRun) -> list[str]:
    return [step.action for step in run.steps]


def assert_nothing_leaked(run: FlowRun, entries: list[str]) -> None:
    assert run.logging_off_while_digits
    assert not run.flow_log_contains(secrets_in(run, entries))
    assert run.steps[-1].logging and run.steps[-1].recording  # restored before the contact left the flow


def test_a_valid_card_takes_the_ok_branch_with_logging_off_while_the_digits_exist(decrypt):
    run = ivr([CARD], decrypt)
    assert run.outcome == "ok" and run.ended == "queued"
    assert path(run)[:6] == [
        "suspend-logging",
        "suspend-recording",
        "card-input-1",
        "decrypt-1",
        "status-1",
        "card-check-1",
    ]
    store = next(s for s in run.steps if s.action == "card-input-1")
    assert (store.logging, store.recording, store.digits_present) == (False, False, True)
    assert run.external["Status"] == "OK" and run.external["Last4"] == "1111"
    assert_nothing_leaked(run, [CARD])
    assert run.flow_log  # the blocks before and after the secure section are logged
    # the ciphertext reached the decryptor as a Lambda input, never as a contact attribute
    event = decrypt.calls[-1]
    assert event["Details"]["Parameters"]["EncryptedInput"] == run.ciphertexts[0]
    assert event["Details"]["ContactData"]["Attributes"] == {}


def test_an_invalid_number_is_asked_once_more(decrypt):
    run = ivr([NOT_A_CARD, CARD], decrypt)
    assert "retry-prompt" in path(run) and "card-input-2" in path(run)
    assert run.outcome == "ok"
    assert_nothing_leaked(run, [NOT_A_CARD, CARD])


def test_two_invalid_numbers_end_on_the_invalid_branch(decrypt):
    run = ivr([NOT_A_CARD, "5500000000000005"], decrypt)
    assert run.outcome == "invalid" and run.ended == "queued"
    assert_nothing_leaked(run, [NOT_A_CARD, "5500000000000005"])


def test_a_caller_who_keys_nothing_gets_one_retry_then_the_invalid_branch(decrypt):
    run = ivr([], decrypt)
    assert [s.note for s in run.steps if s.action.startswith("card-input")] == [
        "no entry before the time limit: $.StoredCustomerInput = Timeout"
    ] * 2
    assert run.outcome == "invalid"


def test_a_decryptor_that_fails_takes_the_failure_branch_at_once():
    run = ivr([CARD], lambda arn, event: None)
    assert run.outcome == "failure" and "card-input-2" not in path(run)
    assert_nothing_leaked(run, [CARD])


def test_a_key_the_decryptor_does_not_hold_is_a_failure_not_a_retry(decrypt):
    values = {**VALUES, "IvrEncryptionKeyId": "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"}
    run = ivr([CARD], decrypt, render(load("secure-ivr"), values, {}))
    assert run.external == {"Status": "ERROR", "Reason": "UNKNOWN_KEY"}
    assert run.outcome == "failure"


def test_a_broken_copy_leaks_into_the_flow_log(decrypt):
    """What the invariant tests prevent: without the logging block, the ciphertext and digits are logged."""
    flow = render(load("secure-ivr"), VALUES, {})
    flow["Actions"] = [a for a in flow["Actions"] if a["Identifier"] != "suspend-logging"]
    flow["StartAction"] = "suspend-recording"
    run = ivr([CARD], decrypt, flow)
    assert not run.logging_off_while_digits
    assert run.flow_log_contains(run.ciphertexts)
    assert CARD in json.dumps(run.flow_log)  # $.External.Value, as Connect would log the Lambda's result


def test_a_chat_through_chat_redaction_gets_the_processor_failing_closed_then_the_queue():
    run = run_chat_entry(render(load("chat-redaction"), VALUES, {}))
    assert run.chat_processor == {
        "enabled": True,
        "lambda_arn": VALUES["MessageProcessorArn"],
        "deliver_unprocessed": False,
    }
    assert run.ended == "queued" and run.queue == VALUES["QueueArn"]


def test_messenger_inbound_sets_the_processor_only_when_switched_on():
    off = run_chat_entry(render(load("messenger-inbound"), VALUES, {"MESSENGER_USE_PROCESSOR": False}))
    on = run_chat_entry(render(load("messenger-inbound"), VALUES, {"MESSENGER_USE_PROCESSOR": True}))
    assert off.chat_processor is None and off.ended == "queued"
    assert on.chat_processor is not None and on.chat_processor["enabled"]


def test_a_voice_call_sent_to_a_chat_flow_is_disconnected_not_queued():
    from sandbox.flow_runner import FlowInterpreter

    run = FlowInterpreter(render(load("chat-redaction"), VALUES, {}), channel="VOICE").execute()
    assert run.steps[0].branch == "error:ChannelMismatch"
    assert run.ended == "disconnected" and run.queue is None


def test_an_unknown_block_is_refused():
    flow = render(load("chat-redaction"), VALUES, {})
    flow["Actions"][0]["Type"] = "InvokeFlowModule"
    with pytest.raises(FlowRunError, match="not supported by the sandbox"):
        run_chat_entry(flow)


# ------------------------------------------------------------------------------------ the sandbox's IVR panel


class DecryptorInvoker:
    """The sandbox's Lambda invoker, answering `ivr_decryptor` with the real use case."""

    def __init__(self, invoke):
        self.invoke_real = invoke
        self.functions: list[str] = []

    def invoke(self, function: str, event: dict, timeout: float = 60.0) -> Invocation:
        self.functions.append(function)
        return Invocation(self.invoke_real(DECRYPTOR, event), None)


def panel(invoke):
    from sandbox.ivr_panel import IvrPanel
    from sandbox.resources import IvrKey

    key = IvrKey(KEY_ID, b"", b"", (FIXTURE_DIR / "test.connect.certificate.pem").read_bytes())
    return IvrPanel(DecryptorInvoker(invoke), key, "11111111-2222-3333-4444-555555555555")


def test_the_panel_runs_the_flow_file_and_reports_each_block(decrypt):
    result = panel(decrypt).run("4111111111111112, 4111111111111111")
    flow = result["flow"]
    assert flow["outcome"] == "ok" and flow["ended"] == "queued"
    assert flow["logging_off_while_digits"] and flow["flow_log_clean"]
    assert [s["action"] for s in flow["steps"] if s["action"].startswith("card-input")] == [
        "card-input-1",
        "card-input-2",
    ]
    assert result["external"]["Status"] == "OK" and result["ciphertext_chars"] > 1000
    assert all(not s["logging"] for s in flow["steps"] if s["type"] == "GetParticipantInput")


def test_the_panel_refuses_what_a_keypad_cannot_send(decrypt):
    assert "error" in panel(decrypt).run("12ab")
    assert "error" in panel(decrypt).run("1,2,3,4")
    assert "error" in panel(decrypt).run("1" * 65)
