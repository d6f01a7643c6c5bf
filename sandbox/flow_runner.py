"""A small interpreter of the flow-language blocks our flows use, so the sandbox runs `infra/flows/*.json`.

It is not Connect: it runs one contact through one flow, block by block, the way the flow language
describes each block (docs/reference/flow-language.md), and records what a reviewer wants to see:

- each step: the block, the branch taken, and whether flow logging and recording were on at that moment;
- an emulated *flow log*: one entry per block executed while logging is on, holding the block's resolved
  parameters and results (Connect's flow logs hold the same: Lambda inputs and outputs, stored input), so a
  test can show that no digit and no ciphertext ever reached it;
- for a chat: the message-processor settings the flow set, and the queue it transferred to.

The host supplies the outside world: the caller's keypad (`keypad`), the encryption Connect applies to
stored input (`encrypt`), and the Lambda functions (`invoke`). Two entry points:

    run_secure_ivr(flow, entries, encrypt, invoke)  -> FlowRun   (the IVR panel)
    run_chat_entry(flow)                            -> FlowRun   (a chat pane: processor settings + queue)

`FlowRun.chat_processor` is what a Connect emulator applies to the new chat contact (issue 15's pane:
start the contact, run `run_chat_entry(render(chat-redaction))`, then enable `message_processor` for it
with `deliver_unprocessed` as the failure mode).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.flow_files import Flow

MAX_STEPS = 200
TIMEOUT = "Timeout"  # what $.StoredCustomerInput holds when the caller entered nothing

# (digits, key id, certificate PEM) -> base64 ciphertext, as Store customer input with encryption makes it.
Encrypt = Callable[[str, str, str], str]
# (function ARN, contact-flow event) -> the flat result map, or None when the invocation failed.
Invoke = Callable[[str, dict[str, Any]], "dict[str, str] | None"]
# the prompt -> what the caller keys in (None: nothing before the time limit)
Keypad = Callable[[str], "str | None"]


class FlowRunError(RuntimeError):
    """The flow uses a block or a shape this interpreter does not know."""


@dataclass
class Step:
    action: str
    type: str
    branch: str
    logging: bool
    recording: bool
    digits_present: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "type": self.type,
            "branch": self.branch,
            "logging": self.logging,
            "recording": self.recording,
            "digits_present": self.digits_present,
            "note": self.note,
        }


@dataclass
class FlowRun:
    steps: list[Step] = field(default_factory=list)
    flow_log: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    external: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    queue: str | None = None
    ended: str = ""  # "queued", "disconnected", "fell off the flow"
    chat_processor: dict[str, Any] | None = None
    ciphertexts: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """The last prompt the caller heard names the branch: ok / invalid / failure (secure-ivr's say-* blocks)."""
        said = [s.action for s in self.steps if s.action.startswith("say-")]
        return said[-1].removeprefix("say-") if said else ""

    @property
    def logging_off_while_digits(self) -> bool:
        """True when every block that ran while digits (or their decryption) existed had logging off."""
        return all(not s.logging and not s.recording for s in self.steps if s.digits_present)

    def flow_log_contains(self, secrets: list[str]) -> bool:
        text = json.dumps(self.flow_log)
        return any(secret and secret in text for secret in secrets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "ended": self.ended,
            "queue": self.queue,
            "logging_off_while_digits": self.logging_off_while_digits,
            "flow_log_entries": len(self.flow_log),
            "steps": [s.as_dict() for s in self.steps],
            "prompts": self.prompts,
            "chat_processor": self.chat_processor,
        }


class FlowInterpreter:
    """Runs one contact through one flow."""

    def __init__(
        self,
        flow: Flow,
        *,
        channel: str = "VOICE",
        contact_id: str = "sandbox-contact",
        instance_arn: str = "arn:aws:connect:us-east-1:123456789012:instance/sandbox",
        keypad: Keypad | None = None,
        encrypt: Encrypt | None = None,
        invoke: Invoke | None = None,
    ):
        self.flow = flow
        self.actions = {a["Identifier"]: a for a in flow["Actions"]}
        self.channel = channel
        self.contact_id = contact_id
        self.instance_arn = instance_arn
        self.keypad = keypad or (lambda prompt: None)
        self.encrypt = encrypt
        self.invoke = invoke
        self.logging = True  # inherited: assume on, as the checks do
        self.recording = True
        self.stored_input: str | None = None
        self.digits_present = False
        self.run = FlowRun()

    # ---------------------------------------------------------------- the loop

    def execute(self) -> FlowRun:
        current: str | None = self.flow["StartAction"]
        for _ in range(MAX_STEPS):
            if current is None:
                self.run.ended = self.run.ended or "fell off the flow"
                return self.run
            action = self.actions[current]
            handler = getattr(self, "_" + action["Type"], None)
            if handler is None:
                raise FlowRunError(f"{current}: block type {action['Type']} is not supported by the sandbox")
            digits_before = self.digits_present
            logging_before, recording_before = self.logging, self.recording
            branch, note, log_entry = handler(action)
            step = Step(
                current,
                action["Type"],
                branch,
                logging_before,
                recording_before,
                digits_before or self.digits_present,
                note,
            )
            self.run.steps.append(step)
            if logging_before and log_entry is not None:
                self.run.flow_log.append({"Identifier": current, "ContactFlowModuleType": action["Type"], **log_entry})
            current = self.next_action(action, branch)
        raise FlowRunError(f"more than {MAX_STEPS} blocks: a loop without an exit?")

    @staticmethod
    def next_action(action: Mapping[str, Any], branch: str) -> str | None:
        moves = action.get("Transitions", {})
        if branch == "end":
            return None
        if branch.startswith("error:"):
            error = branch.removeprefix("error:")
            target = next((e["NextAction"] for e in moves.get("Errors", []) if e["ErrorType"] == error), None)
            if target is None:
                raise FlowRunError(f"{action['Identifier']}: error {error} has no branch")
            return str(target)
        if branch.startswith("condition:"):
            index = int(branch.removeprefix("condition:"))
            return str(moves["Conditions"][index]["NextAction"])
        return str(moves["NextAction"])

    # ---------------------------------------------------------------- data

    def resolve(self, value: str) -> str:
        """A whole-value JSONPath ($.External.x, $.StoredCustomerInput, $.Attributes.x) or static text."""
        path = re.sub(r"\[\s*['\"]([^'\"]+)['\"]\s*\]", r".\1", value)
        if path == "$.StoredCustomerInput":
            return self.stored_input if self.stored_input is not None else ""
        for prefix, source in (("$.External.", self.run.external), ("$.Attributes.", self.run.attributes)):
            if path.startswith(prefix):
                return source.get(path.removeprefix(prefix), "")
        return value

    def resolved(self, parameters: Any) -> Any:
        if isinstance(parameters, str):
            return self.resolve(parameters)
        if isinstance(parameters, dict):
            return {k: self.resolved(v) for k, v in parameters.items()}
        if isinstance(parameters, list):
            return [self.resolved(v) for v in parameters]
        return parameters

    # ---------------------------------------------------------------- blocks (each -> branch, note, flow-log entry)

    def _UpdateFlowLoggingBehavior(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        enabled = action["Parameters"]["FlowLoggingBehavior"] == "Enabled"
        self.logging = enabled
        if enabled:
            self.digits_present = False  # the secure section ends here (the checks prove it ends after consumption)
        return "next", f"flow logging {'on' if enabled else 'off'}", {"Parameters": action["Parameters"]}

    def _UpdateContactRecordingBehavior(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        if self.channel != "VOICE":
            return "error:NoMatchingError", "recording applies to voice", {"Error": "NoMatchingError"}
        behaviour = action["Parameters"].get("RecordingBehavior", {})
        self.recording = (
            bool(behaviour.get("RecordedParticipants")) or behaviour.get("IVRRecordingBehavior") == "Enabled"
        )
        return "next", f"recording {'on' if self.recording else 'suspended'}", {"Parameters": action["Parameters"]}

    def _GetParticipantInput(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        parameters = action["Parameters"]
        if parameters.get("StoreInput") != "True" or "InputEncryption" not in parameters:
            raise FlowRunError(f"{action['Identifier']}: only Store customer input with encryption is supported")
        if self.channel != "VOICE":
            return "error:NoMatchingError", "store customer input is voice only", {"Error": "NoMatchingError"}
        prompt = parameters.get("Text", "")
        self.run.prompts.append(prompt)
        entered = self.keypad(prompt)
        if entered is None or entered == "":
            self.stored_input = TIMEOUT
            note = "no entry before the time limit: $.StoredCustomerInput = Timeout"
        else:
            limit = int(parameters["InputValidation"]["CustomValidation"]["MaximumLength"])
            digits = entered[:limit]
            if self.encrypt is None:
                raise FlowRunError("the sandbox host gave no encryption for stored input")
            encryption = parameters["InputEncryption"]
            self.stored_input = self.encrypt(digits, encryption["EncryptionKeyId"], encryption["Key"])
            self.run.ciphertexts.append(self.stored_input)
            note = f"{len(digits)} digits stored encrypted ({len(self.stored_input)} base64 characters)"
        self.digits_present = True
        return "next", note, {"Results": self.stored_input}

    def _InvokeLambdaFunction(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        parameters = action["Parameters"]
        arn = parameters["LambdaFunctionARN"]
        inputs = {k: self.resolve(v) for k, v in parameters.get("LambdaInvocationAttributes", {}).items()}
        event = {
            "Name": "ContactFlowEvent",
            "Details": {
                "ContactData": {
                    "Attributes": dict(self.run.attributes),
                    "Channel": self.channel,
                    "ContactId": self.contact_id,
                    "InitialContactId": self.contact_id,
                    "PreviousContactId": self.contact_id,
                    "InitiationMethod": "INBOUND",
                    "InstanceARN": self.instance_arn,
                },
                "Parameters": inputs,
            },
        }
        result = self.invoke(arn, event) if self.invoke else None
        entry: dict[str, Any] = {"Parameters": {"FunctionArn": arn, "Parameters": inputs}}
        if result is None or not all(isinstance(v, str) for v in result.values()):
            self.run.external = {}
            return "error:NoMatchingError", "the function failed", {**entry, "Error": "NoMatchingError"}
        self.run.external = dict(result)
        return "next", "$.External = " + ", ".join(f"{k}" for k in sorted(result)), {**entry, "ExternalResults": result}

    def _Compare(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        value = self.resolve(action["Parameters"]["ComparisonValue"])
        for index, condition in enumerate(action["Transitions"].get("Conditions", [])):
            if matches(condition["Condition"], value):
                return f"condition:{index}", f"{action['Parameters']['ComparisonValue']} = {value}", {"Results": value}
        return "error:NoMatchingCondition", f"{action['Parameters']['ComparisonValue']} = {value}", {"Results": value}

    def _MessageParticipant(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        text = self.resolve(action["Parameters"].get("Text", ""))
        self.run.prompts.append(text)
        return "next", text, {"Parameters": {"Text": text}}

    def _UpdateContactAttributes(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        values = self.resolved(action["Parameters"].get("Attributes", {}))
        self.run.attributes.update(values)
        return "next", "attributes set: " + ", ".join(sorted(values)), {"Parameters": values}

    def _UpdateContactTargetQueue(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        self.run.queue = self.resolve(action["Parameters"]["QueueId"])
        return "next", f"working queue {self.run.queue.rsplit('/', 1)[-1]}", {"Parameters": action["Parameters"]}

    def _TransferContactToQueue(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        if not self.run.queue:
            return "error:NoMatchingError", "no working queue set", {"Error": "NoMatchingError"}
        self.run.ended = "queued"
        return "end", "transferred to the queue", {"Results": "queued"}

    def _DisconnectParticipant(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        self.run.ended = self.run.ended or "disconnected"
        return "end", "disconnected", {}

    def _UpdateContactMediaProcessing(self, action: Mapping[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
        if self.channel != "CHAT":
            return "error:ChannelMismatch", "message processing applies to chat", {"Error": "ChannelMismatch"}
        processor = action["Parameters"]["ChatProcessor"]
        self.run.chat_processor = {
            "enabled": processor["ProcessingEnabled"] == "True",
            "lambda_arn": processor.get("LambdaProcessorARN", ""),
            "deliver_unprocessed": processor.get("ChatProcessorSettings", {}).get("DeliverUnprocessedMessages")
            == "True",
        }
        return (
            "next",
            "message processor on" if self.run.chat_processor["enabled"] else "processor off",
            {"Parameters": action["Parameters"]},
        )


def matches(condition: Mapping[str, Any], value: str) -> bool:
    operator, operand = condition["Operator"], str(condition["Operands"][0])
    if operator == "Equals":
        return value == operand
    if operator == "TextStartsWith":
        return value.startswith(operand)
    if operator == "TextEndsWith":
        return value.endswith(operand)
    if operator == "TextContains":
        return operand in value
    try:
        number, limit = float(value), float(operand)
    except ValueError:
        return False
    return {
        "NumberGreaterThan": number > limit,
        "NumberGreaterOrEqualTo": number >= limit,
        "NumberLessThan": number < limit,
        "NumberLessOrEqualTo": number <= limit,
    }.get(operator, False)


# ==================================================================== entry points


def run_secure_ivr(
    flow: Flow,
    entries: list[str],
    encrypt: Encrypt,
    invoke: Invoke,
    instance_arn: str = "arn:aws:connect:us-east-1:123456789012:instance/sandbox",
    contact_id: str = "sandbox-contact",
) -> FlowRun:
    """A caller who keys `entries` in turn (one per input block reached; missing ones time out)."""
    queue = list(entries)
    return FlowInterpreter(
        flow,
        channel="VOICE",
        keypad=lambda prompt: queue.pop(0) if queue else None,
        encrypt=encrypt,
        invoke=invoke,
        instance_arn=instance_arn,
        contact_id=contact_id,
    ).execute()


def run_chat_entry(flow: Flow, contact_id: str = "sandbox-chat") -> FlowRun:
    """A new chat contact through its entry flow: which processor settings it gets, and its queue."""
    return FlowInterpreter(flow, channel="CHAT", contact_id=contact_id).execute()


def secrets_in(run: FlowRun, digits: list[str]) -> list[str]:
    """What must never appear in a flow log: the digits entered and the ciphertexts made of them."""
    return [d for d in digits if d] + run.ciphertexts + [v for k, v in run.external.items() if k == "Value"]


__all__ = ["FlowInterpreter", "FlowRun", "FlowRunError", "Step", "run_chat_entry", "run_secure_ivr", "secrets_in"]
