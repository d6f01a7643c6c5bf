"""Every flow in infra/flows/ keeps its invariants, and a deliberately broken copy of each one fails them.

The broken copies are the edits a hand in the console could make: a block deleted, a branch re-pointed, an
attribute added. Each must be caught with a message naming the action (docs/flows.md#checked-invariants).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from infra import flow_checks
from infra.flow_files import FLOW_NAMES, FLOWS_DIR, Flow, FlowFile, load, load_all

Mutation = Callable[[Flow], None]


def action(flow: Flow, identifier: str) -> dict[str, Any]:
    return next(a for a in flow["Actions"] if a["Identifier"] == identifier)


def error_target(flow: Flow, identifier: str, error: str) -> dict[str, Any]:
    return next(e for e in action(flow, identifier)["Transitions"]["Errors"] if e["ErrorType"] == error)


def remove(flow: Flow, identifier: str) -> None:
    flow["Actions"] = [a for a in flow["Actions"] if a["Identifier"] != identifier]


def problems_of(key: str, flow: Flow, settings: dict[str, bool] | None = None) -> list[str]:
    return flow_checks.problems(flow, flow_key=key, settings=settings)


# ------------------------------------------------------------------------------------ the files as they are


def test_the_three_flows_are_there():
    assert sorted(p.stem for p in FLOWS_DIR.glob("*.json")) == sorted(FLOW_NAMES)


@pytest.mark.parametrize("flow_file", load_all(), ids=lambda f: f.key)
def test_every_variant_of_every_flow_keeps_every_invariant(flow_file: FlowFile):
    variants = list(flow_file.variants())
    assert variants
    for settings, flow in variants:
        assert problems_of(flow_file.key, flow, settings) == [], settings


def test_messenger_inbound_has_both_variants():
    settings = [s for s, _ in load("messenger-inbound").variants()]
    assert settings == [{"MESSENGER_USE_PROCESSOR": False}, {"MESSENGER_USE_PROCESSOR": True}]
    off = load("messenger-inbound").select({"MESSENGER_USE_PROCESSOR": False})
    assert all(a["Type"] != "UpdateContactMediaProcessing" for a in off["Actions"])
    assert off["StartAction"] == "set-queue"


def test_the_command_line_check_passes_on_the_files(capsys):
    assert flow_checks.main([]) == 0
    assert capsys.readouterr().out.count(": ok") == 3


# ------------------------------------------------------------------------------------ broken copies: secure IVR


def _logging_never_disabled(flow: Flow) -> None:
    remove(flow, "suspend-logging")
    flow["StartAction"] = "suspend-recording"


def _recording_never_suspended(flow: Flow) -> None:
    action(flow, "suspend-recording")["Parameters"]["RecordingBehavior"]["RecordedParticipants"] = ["Customer"]


def _logging_restored_before_the_result_is_read(flow: Flow) -> None:
    action(flow, "decrypt-1")["Transitions"]["NextAction"] = "restore-logging-ok"


def _result_never_read(flow: Flow) -> None:
    action(flow, "decrypt-2")["Transitions"]["NextAction"] = "restore-logging-failure"


def _digits_copied_into_an_attribute(flow: Flow) -> None:
    action(flow, "card-check-1")["Transitions"]["Conditions"][0]["NextAction"] = "save-card"
    flow["Actions"].append(
        {
            "Identifier": "save-card",
            "Type": "UpdateContactAttributes",
            "Parameters": {"Attributes": {"card": "$.External.Value"}, "TargetContact": "Current"},
            "Transitions": {
                "NextAction": "restore-logging-ok",
                "Errors": [{"ErrorType": "NoMatchingError", "NextAction": "restore-logging-ok"}],
            },
        }
    )


def _stored_input_in_an_attribute_bracket_spelling(flow: Flow) -> None:
    action(flow, "status-1")["Transitions"]["Conditions"][0]["NextAction"] = "save-card"
    flow["Actions"].append(
        {
            "Identifier": "save-card",
            "Type": "UpdateContactAttributes",
            "Parameters": {"Attributes": {"card": "$['StoredCustomerInput']"}},
            "Transitions": {
                "NextAction": "card-check-1",
                "Errors": [{"ErrorType": "NoMatchingError", "NextAction": "card-check-1"}],
            },
        }
    )


def _last_digits_read_out_after_restoring(flow: Flow) -> None:
    action(flow, "say-ok")["Parameters"]["Text"] = "Your card ending $.External.Last4 was accepted."


def _ciphertext_to_another_lambda(flow: Flow) -> None:
    action(flow, "decrypt-2")["Parameters"]["LambdaFunctionARN"] = "arn:aws:lambda:us-east-1:123456789012:function:x"


def _decryptor_error_unhandled(flow: Flow) -> None:
    del action(flow, "decrypt-1")["Transitions"]["Errors"]


def _transition_to_a_missing_block(flow: Flow) -> None:
    error_target(flow, "card-input-1", "NoMatchingError")["NextAction"] = "restore-logging-fialure"


def _orphan_block(flow: Flow) -> None:
    flow["Actions"].append(copy.deepcopy(action(flow, "say-busy")) | {"Identifier": "say-closed"})


def _restore_skipped_on_success(flow: Flow) -> None:
    action(flow, "card-check-2")["Transitions"]["Conditions"][0]["NextAction"] = "say-ok"


def _input_block_deleted(flow: Flow) -> None:
    remove(flow, "card-input-1")
    remove(flow, "card-input-2")
    action(flow, "suspend-recording")["Transitions"]["NextAction"] = "decrypt-1"
    action(flow, "retry-prompt")["Transitions"]["NextAction"] = "decrypt-2"


SECURE_IVR_BREAKS: dict[str, tuple[Mutation, str]] = {
    "logging never disabled": (_logging_never_disabled, "card-input-1: digits are stored while flow logging is on"),
    "recording never suspended": (
        _recording_never_suspended,
        "card-input-1: digits are stored while recording is not suspended",
    ),
    "logging restored before the result is read": (
        _logging_restored_before_the_result_is_read,
        "restore-logging-ok: logging or recording is restored before",
    ),
    "result never read": (_result_never_read, "restore-logging-failure: logging or recording is restored before"),
    "digits copied into an attribute": (_digits_copied_into_an_attribute, "save-card: reads $.External.Value"),
    "stored input in an attribute": (
        _stored_input_in_an_attribute_bracket_spelling,
        "save-card: UpdateContactAttributes copies",
    ),
    "last digits read after restoring": (
        _last_digits_read_out_after_restoring,
        "say-ok: reads the decryptor's result or the stored input while flow logging",
    ),
    "ciphertext to another Lambda": (_ciphertext_to_another_lambda, "decrypt-2: $.StoredCustomerInput may go only"),
    "decryptor error unhandled": (_decryptor_error_unhandled, "decrypt-1: error branch NoMatchingError not handled"),
    "transition to a missing block": (_transition_to_a_missing_block, "which is not an action"),
    "orphan block": (_orphan_block, "say-closed: not reachable from StartAction"),
    "restore skipped": (_restore_skipped_on_success, "still off"),
    "input block deleted": (_input_block_deleted, "secure-ivr must have a store-input block"),
}


# ------------------------------------------------------------------------------------ broken copies: chat flows


def _fail_open(flow: Flow) -> None:
    action(flow, "processor-on")["Parameters"]["ChatProcessor"]["ChatProcessorSettings"][
        "DeliverUnprocessedMessages"
    ] = "True"


def _processor_error_to_queue(flow: Flow) -> None:
    error_target(flow, "processor-on", "NoMatchingError")["NextAction"] = "set-queue"


def _processor_deleted(flow: Flow) -> None:
    remove(flow, "processor-on")
    flow["StartAction"] = "set-queue"


def _boolean_not_a_string(flow: Flow) -> None:
    action(flow, "processor-on")["Parameters"]["ChatProcessor"]["ProcessingEnabled"] = True


def _channel_mismatch_unhandled(flow: Flow) -> None:
    errors = action(flow, "processor-on")["Transitions"]["Errors"]
    errors[:] = [e for e in errors if e["ErrorType"] != "ChannelMismatch"]


def _queue_full_unhandled(flow: Flow) -> None:
    errors = action(flow, "to-queue")["Transitions"]["Errors"]
    errors[:] = [e for e in errors if e["ErrorType"] != "QueueAtCapacity"]


CHAT_BREAKS: dict[str, tuple[Mutation, str]] = {
    "fails open": (_fail_open, 'DeliverUnprocessedMessages must be "False"'),
    "processor error routed to the queue": (_processor_error_to_queue, "to-queue: the chat reaches a queue without"),
    "processor deleted": (_processor_deleted, "must have a processor block"),
    "boolean not a string": (_boolean_not_a_string, "ProcessingEnabled must be the string"),
    "ChannelMismatch unhandled": (_channel_mismatch_unhandled, "error branch ChannelMismatch not handled"),
    "QueueAtCapacity unhandled": (_queue_full_unhandled, "error branch QueueAtCapacity not handled"),
}

BROKEN = (
    [("secure-ivr", name, *case) for name, case in SECURE_IVR_BREAKS.items()]
    + [("chat-redaction", name, *case) for name, case in CHAT_BREAKS.items()]
    + [("messenger-inbound", name, *case) for name, case in CHAT_BREAKS.items()]
)


@pytest.mark.parametrize("key,name,mutate,expected", BROKEN, ids=[f"{k}: {n}" for k, n, _, _ in BROKEN])
def test_a_broken_copy_fails(key: str, name: str, mutate: Mutation, expected: str):
    settings = {"MESSENGER_USE_PROCESSOR": True}
    flow = load(key).select(settings)
    assert problems_of(key, flow, settings) == []
    mutate(flow)
    found = problems_of(key, flow, settings)
    assert any(expected in problem for problem in found), found


def test_a_broken_file_fails_the_command_line_check(tmp_path, capsys):
    flow = json.loads((FLOWS_DIR / "secure-ivr.json").read_text())
    _logging_restored_before_the_result_is_read(flow)
    broken = tmp_path / "secure-ivr.json"
    broken.write_text(json.dumps(flow))
    assert flow_checks.main([str(broken)]) == 1
    out = capsys.readouterr().out
    assert (
        "restore-logging-ok: logging or recording is restored before the decryptor's result is consumed "
        "(path suspend-logging -> suspend-recording -> card-input-1 -> decrypt-1 -> restore-logging-ok)"
    ) in out


def test_the_messenger_flow_without_the_processor_is_not_held_to_the_processor_rule():
    flow = load("messenger-inbound").select({"MESSENGER_USE_PROCESSOR": False})
    assert problems_of("messenger-inbound", flow, {"MESSENGER_USE_PROCESSOR": False}) == []


def test_loops_terminate_and_are_checked():
    """A retry written as a loop (the console's usual shape) is searched once per state, and still checked."""
    flow = load("secure-ivr").content
    action(flow, "reason-2")["Transitions"]["Conditions"][0]["NextAction"] = "retry-prompt"
    assert problems_of("secure-ivr", flow) == []
    action(flow, "retry-prompt")["Transitions"]["NextAction"] = "restore-logging-ok"
    assert any("card-input-2: not reachable" in p for p in problems_of("secure-ivr", flow))
