"""Invariants every contact flow in `infra/flows/` keeps, checked by reading the flow (no AWS).

    python -m infra.flow_checks [path.json ...]     # prints each problem; exit 1 if any

Five families (docs/flows.md#checked-invariants):

1. Structure: the flow language's shape (docs/reference/flow-language.md#structure); every transition target
   exists; every action is reachable from `StartAction`; every error branch Connect can take is handled, for
   every action type we use (an unknown type is itself a problem, so this table stays complete).
2. Sensitive data (any flow): `$.StoredCustomerInput` goes only to the decryptor as a Lambda input;
   `$.External.Value` (the decrypted digits) is read by no action at all; no action that writes contact
   attributes, tags or contact data takes any `$.External` value or the stored input.
3. Secure input (a flow with a *Store customer input* block): on every path, with the state each action sees
   (flow logging, recording, where the digits are):
   - digits are stored only while logging is off and recording suspended;
   - from the input block until the decryptor's result is consumed (a Compare reads `$.External`, or the
     decryptor's error branch is taken), logging and recording stay off: restoring either is a problem, and so
     is a path that ends with the result never read;
   - any action reading `$.External` or the stored input runs with logging off and recording suspended;
   - every path ends (queue transfer or disconnect) with logging and recording restored.
4. Chat processing (a flow with an `UpdateContactMediaProcessing` block): the processor fails closed
   (`DeliverUnprocessedMessages` "False"), and no path reaches a queue transfer without passing the
   processor's success branch.
5. Each file keeps the block it exists for: secure-ivr a *Store customer input* and the decryptor call,
   chat-redaction the processor, messenger-inbound the processor when `MESSENGER_USE_PROCESSOR` is on.

The state search visits each (action, state) pair once, so loops (retries) terminate; each problem names a
witness path.
"""

from __future__ import annotations

import json
import re
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.flow_files import PLACEHOLDER, PLACEHOLDERS, VERSION, Flow, strings, transitions

MAX_ACTIONS = 250
IDENTIFIER = re.compile(r"^[^%:()\\/=$,;\[\]{}]{1,50}$")
RESERVED_IDENTIFIERS = {"__proto__", "constructor", "toString", "prototype", "valueOf", "hasOwnProperty"}
OPERATORS = {
    "Equals",
    "TextStartsWith",
    "TextEndsWith",
    "TextContains",
    "NumberGreaterThan",
    "NumberGreaterOrEqualTo",
    "NumberLessThan",
    "NumberLessOrEqualTo",
}
DECRYPTOR_PLACEHOLDER = "{{IvrDecryptorArn}}"

# Action type -> (error types Connect can take and the flow must handle, further ones allowed).
# Sources: docs/reference/flow-language.md#action-types. `UpdateContactRecordingBehavior`'s page lists no
# errors; NoMatchingError is required anyway so a failure never stops the flow silently.
ERRORS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "UpdateFlowLoggingBehavior": (frozenset(), frozenset()),
    "UpdateContactRecordingBehavior": (frozenset({"NoMatchingError"}), frozenset()),
    "GetParticipantInput": (
        frozenset({"NoMatchingError"}),
        frozenset({"InvalidPhoneNumber", "InputTimeLimitExceeded"}),
    ),
    "InvokeLambdaFunction": (frozenset({"NoMatchingError"}), frozenset()),
    "Compare": (frozenset({"NoMatchingCondition"}), frozenset()),
    "MessageParticipant": (frozenset({"NoMatchingError"}), frozenset()),
    "UpdateContactMediaProcessing": (frozenset({"NoMatchingError", "ChannelMismatch"}), frozenset()),
    "UpdateContactTargetQueue": (frozenset({"NoMatchingError"}), frozenset()),
    "TransferContactToQueue": (frozenset({"QueueAtCapacity", "NoMatchingError"}), frozenset()),
    "UpdateContactAttributes": (frozenset({"NoMatchingError"}), frozenset()),
    "DisconnectParticipant": (frozenset(), frozenset()),
}
TERMINAL_TYPES = {"DisconnectParticipant"}
ENDING_TYPES = {"DisconnectParticipant", "TransferContactToQueue"}
# Actions that copy values into contact records, tags, the CCP or other contacts.
SINK_TYPES = {
    "UpdateContactAttributes",
    "UpdateFlowAttributes",
    "TagContact",
    "UpdateContactData",
    "UpdateContactCallbackNumber",
    "CreateTask",
    "UpdateContactEventHooks",
    "CreateCase",
    "UpdateCase",
}
BOOLEAN_STRINGS = {"True", "False"}


def normalised_path(text: str) -> str:
    """`$['External']["Value"]` -> `$.External.Value`, so bracket spellings cannot dodge a check."""
    return re.sub(r"\[\s*['\"]([^'\"]+)['\"]\s*\]", r".\1", text)


def reads(value: Any, prefix: str) -> bool:
    """Whether any string inside `value` refers to the JSONPath `prefix` (whole word)."""
    pattern = re.compile(re.escape(prefix) + r"(?![A-Za-z0-9_])")
    return any(pattern.search(normalised_path(text)) for text in strings(value))


def reads_external(action: Mapping[str, Any]) -> bool:
    return reads(action.get("Parameters", {}), "$.External")


def reads_stored_input(action: Mapping[str, Any]) -> bool:
    return reads(action.get("Parameters", {}), "$.StoredCustomerInput")


def stores_input(action: Mapping[str, Any]) -> bool:
    return action.get("Type") == "GetParticipantInput" and action.get("Parameters", {}).get("StoreInput") == "True"


def is_decryptor(action: Mapping[str, Any], decryptor_arns: Iterable[str]) -> bool:
    return action.get("Type") == "InvokeLambdaFunction" and action.get("Parameters", {}).get(
        "LambdaFunctionARN"
    ) in set(decryptor_arns)


# ============================================================================== 1. structure


def structure_problems(flow: Any) -> list[str]:
    if not isinstance(flow, dict):
        return ["the flow is not a JSON object"]
    problems: list[str] = []
    if flow.get("Version") != VERSION:
        problems.append(f"Version must be {VERSION!r}")
    actions = flow.get("Actions")
    if not isinstance(actions, list) or not actions:
        return problems + ["Actions must be a non-empty list"]
    if len(actions) > MAX_ACTIONS:
        problems.append(f"{len(actions)} actions: Connect allows at most {MAX_ACTIONS}")
    ids: dict[str, Mapping[str, Any]] = {}
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or not isinstance(action.get("Identifier"), str):
            problems.append(f"action #{index} has no Identifier")
            continue
        action_id = action["Identifier"]
        if action_id in ids:
            problems.append(f"{action_id}: Identifier used twice")
        ids[action_id] = action
        if not IDENTIFIER.match(action_id) or action_id in RESERVED_IDENTIFIERS:
            problems.append(f"{action_id}: Identifier must be 1-50 characters without % : ( ) \\ / = $ , ; [ ] {{ }}")
    start = flow.get("StartAction")
    if start not in ids:
        problems.append(f"StartAction {start!r} is not an action")
    for action_id, action in ids.items():
        problems += action_problems(action_id, action, ids)
    if start in ids:
        unreachable = sorted(set(ids) - reachable(flow))
        problems += [f"{action_id}: not reachable from StartAction {start}" for action_id in unreachable]
    return problems


def action_problems(action_id: str, action: Mapping[str, Any], ids: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = action.get("Type")
    if kind not in ERRORS:
        return [f"{action_id}: action type {kind!r} is not one the checks know (add its error branches to ERRORS)"]
    if not isinstance(action.get("Parameters"), dict):
        problems.append(f"{action_id}: Parameters must be an object")
    moves = action.get("Transitions")
    if not isinstance(moves, dict):
        return problems + [f"{action_id}: Transitions must be an object"]
    if kind in TERMINAL_TYPES:
        if moves:
            problems.append(f"{action_id}: {kind} ends the flow, its Transitions must be empty")
        return problems
    if not moves.get("NextAction"):
        problems.append(f"{action_id}: no NextAction")
    for move in transitions(action):
        target = move.get("NextAction")
        if target is not None and target not in ids:
            problems.append(f"{action_id}: transition to {target!r}, which is not an action")
    required, allowed = ERRORS[kind]
    handled = [str(e.get("ErrorType")) for e in moves.get("Errors", []) if isinstance(e, dict)]
    for missing in sorted(required - set(handled)):
        problems.append(f"{action_id}: error branch {missing} not handled")
    for extra in sorted(set(handled) - required - allowed):
        problems.append(f"{action_id}: {kind} has no error {extra!r}")
    for twice in sorted({e for e in handled if handled.count(e) > 1}):
        problems.append(f"{action_id}: error branch {twice} handled twice")
    if kind == "Compare":
        conditions = moves.get("Conditions")
        if not conditions:
            problems.append(f"{action_id}: Compare without Conditions")
        for condition in conditions or []:
            operator = condition.get("Condition", {}).get("Operator")
            if operator not in OPERATORS:
                problems.append(f"{action_id}: condition operator {operator!r} is not a flow-language operator")
    elif moves.get("Conditions"):
        problems.append(f"{action_id}: {kind} takes no Conditions")
    return problems + parameter_problems(action_id, action)


def parameter_problems(action_id: str, action: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    parameters = action.get("Parameters", {})
    for name in sorted({m for text in strings(parameters) for m in PLACEHOLDER.findall(text)} - set(PLACEHOLDERS)):
        problems.append(f"{action_id}: unknown placeholder {{{{{name}}}}}")
    kind = action.get("Type")
    if kind == "GetParticipantInput" and parameters.get("StoreInput") == "True":
        validation = parameters.get("InputValidation", {})
        if not validation:
            problems.append(f"{action_id}: StoreInput needs InputValidation")
        if "InputEncryption" in parameters and "CustomValidation" not in validation:
            problems.append(f"{action_id}: InputEncryption works only with CustomValidation")
    if kind == "InvokeLambdaFunction":
        limit = str(parameters.get("InvocationTimeLimitSeconds", "8"))
        if not limit.isdigit() or not 1 <= int(limit) <= 8:
            problems.append(f"{action_id}: InvocationTimeLimitSeconds must be 1-8")
    if kind == "UpdateFlowLoggingBehavior" and parameters.get("FlowLoggingBehavior") not in ("Enabled", "Disabled"):
        problems.append(f"{action_id}: FlowLoggingBehavior must be Enabled or Disabled")
    if kind == "UpdateContactMediaProcessing":
        processor = parameters.get("ChatProcessor", {})
        for key, value in (
            ("ProcessingEnabled", processor.get("ProcessingEnabled")),
            (
                "DeliverUnprocessedMessages",
                processor.get("ChatProcessorSettings", {}).get("DeliverUnprocessedMessages"),
            ),
        ):
            if value not in BOOLEAN_STRINGS:
                problems.append(f'{action_id}: {key} must be the string "True" or "False"')
    return problems


def reachable(flow: Flow) -> set[str]:
    by_id = {a.get("Identifier"): a for a in flow["Actions"] if isinstance(a, dict)}
    seen: set[str] = set()
    stack = [flow.get("StartAction")]
    while stack:
        current = stack.pop()
        if not isinstance(current, str) or current in seen or current not in by_id:
            continue
        seen.add(current)
        stack += [m.get("NextAction") for m in transitions(by_id[current])]
    return seen


# ============================================================================== 2. sensitive data


def data_problems(flow: Flow, decryptor_arns: Iterable[str] = (DECRYPTOR_PLACEHOLDER,)) -> list[str]:
    decryptors = set(decryptor_arns)
    problems: list[str] = []
    for action in flow["Actions"]:
        action_id, kind, parameters = action["Identifier"], action.get("Type"), action.get("Parameters", {})
        if reads(parameters, "$.External.Value"):
            problems.append(f"{action_id}: reads $.External.Value (the decrypted digits)")
        if kind in SINK_TYPES and (reads(parameters, "$.External") or reads(parameters, "$.StoredCustomerInput")):
            problems.append(f"{action_id}: {kind} copies $.External or $.StoredCustomerInput into the contact")
        if reads_stored_input(action):
            as_input = (
                is_decryptor(action, decryptors)
                and reads(parameters.get("LambdaInvocationAttributes", {}), "$.StoredCustomerInput")
                and not reads(
                    {k: v for k, v in parameters.items() if k != "LambdaInvocationAttributes"}, "$.StoredCustomerInput"
                )
            )
            if not as_input:
                problems.append(f"{action_id}: $.StoredCustomerInput may go only to the decryptor as a Lambda input")
    return problems


# ============================================================================== 3. secure input


@dataclass(frozen=True)
class State:
    """What an action sees when it starts. Logging and recording start as on: a flow inherits them."""

    logging: bool = True
    recording: bool = True
    # clear: no digits; stored: digits stored, decryptor not run; decrypted: result not read yet;
    # consumed: a Compare read the result (or the decryptor failed)
    phase: str = "clear"


def secure_input_problems(flow: Flow, decryptor_arns: Iterable[str] = (DECRYPTOR_PLACEHOLDER,)) -> list[str]:
    by_id = {a["Identifier"]: a for a in flow["Actions"]}
    if not any(stores_input(a) for a in by_id.values()):
        return []
    decryptors = set(decryptor_arns)
    problems: dict[str, str] = {}  # one problem per (action, rule): the first witness path found
    start = (flow["StartAction"], State())
    parent: dict[tuple[str, State], tuple[str, State] | None] = {start: None}
    queue = deque([start])

    def path(node: tuple[str, State]) -> str:
        steps: list[str] = []
        current: tuple[str, State] | None = node
        while current is not None:
            steps.append(current[0])
            current = parent[current]
        return " -> ".join(reversed(steps))

    def report(node: tuple[str, State], rule: str, text: str) -> None:
        problems.setdefault(f"{node[0]}:{rule}", f"{node[0]}: {text} (path {path(node)})")

    while queue:
        node = queue.popleft()
        action_id, state = node
        action = by_id.get(action_id)
        if action is None:
            continue
        off = not state.logging and not state.recording
        exposed = " and ".join(
            (["flow logging is on"] if state.logging else [])
            + (["recording is not suspended"] if state.recording else [])
        )
        kind = action.get("Type")
        if stores_input(action) and not off:
            report(node, "store", f"digits are stored while {exposed}")
        if (reads_external(action) or reads_stored_input(action)) and not off and state.phase != "clear":
            report(node, "read", f"reads the decryptor's result or the stored input while {exposed}")
        if kind in ENDING_TYPES and (not state.logging or not state.recording):
            report(node, "restore", "the contact leaves this flow with logging or recording still off")
        if kind in ENDING_TYPES and state.phase in ("stored", "decrypted"):
            report(node, "unread", "the flow ends before the decryptor's result is consumed")
        for target, next_state in successors(action, state, decryptors):
            restores = next_state.logging > state.logging or next_state.recording > state.recording
            if restores and state.phase in ("stored", "decrypted"):
                report(node, "early", "logging or recording is restored before the decryptor's result is consumed")
            successor = (target, next_state)
            if successor not in parent:
                parent[successor] = node
                queue.append(successor)
    return list(problems.values())


def states_seen(flow: Flow, decryptor_arns: Iterable[str] = (DECRYPTOR_PLACEHOLDER,)) -> dict[str, set[State]]:
    """Every state each action can start in, over all paths (the diagrams shade the always-quiet ones)."""
    by_id = {a["Identifier"]: a for a in flow["Actions"]}
    decryptors = set(decryptor_arns)
    seen: dict[str, set[State]] = {}
    queue = deque([(flow["StartAction"], State())])
    while queue:
        action_id, state = queue.popleft()
        if action_id not in by_id or state in seen.setdefault(action_id, set()):
            continue
        seen[action_id].add(state)
        queue.extend(successors(by_id[action_id], state, decryptors))
    return seen


def successors(action: Mapping[str, Any], state: State, decryptors: set[str]) -> list[tuple[str, State]]:
    """Each transition with the state the next action sees."""
    moves = action.get("Transitions", {})
    kind, parameters = action.get("Type"), action.get("Parameters", {})
    after = state
    if kind == "UpdateFlowLoggingBehavior":
        after = State(parameters.get("FlowLoggingBehavior") != "Disabled", state.recording, state.phase)
    elif kind == "UpdateContactRecordingBehavior":
        behaviour = parameters.get("RecordingBehavior", {})
        recording = bool(behaviour.get("RecordedParticipants")) or behaviour.get("IVRRecordingBehavior") == "Enabled"
        after = State(state.logging, recording, state.phase)
    elif kind == "Compare" and reads_external(action) and state.phase in ("decrypted", "consumed"):
        after = State(state.logging, state.recording, "consumed")
    result: list[tuple[str, State]] = []
    success_state = after
    error_state = after
    if kind == "UpdateContactRecordingBehavior":
        # A failed change leaves recording unknown: assume it records (the privacy checks' pessimistic reading).
        error_state = State(state.logging, True, state.phase)
    if stores_input(action):
        success_state = State(state.logging, state.recording, "stored")
    if is_decryptor(action, decryptors) and state.phase == "stored":
        success_state = State(state.logging, state.recording, "decrypted")
        error_state = State(state.logging, state.recording, "consumed")
    if moves.get("NextAction"):
        result.append((moves["NextAction"], success_state))
    for condition in moves.get("Conditions", []):
        result.append((condition["NextAction"], success_state))
    for error in moves.get("Errors", []):
        result.append((error["NextAction"], error_state))
    return result


# ============================================================================== 4. chat processing


def processor_problems(flow: Flow) -> list[str]:
    by_id = {a["Identifier"]: a for a in flow["Actions"]}
    processors = [a for a in by_id.values() if a.get("Type") == "UpdateContactMediaProcessing"]
    if not processors:
        return []
    problems = []
    for action in processors:
        processor = action.get("Parameters", {}).get("ChatProcessor", {})
        if processor.get("ProcessingEnabled") != "True":
            problems.append(f'{action["Identifier"]}: ProcessingEnabled must be "True"')
        if processor.get("ChatProcessorSettings", {}).get("DeliverUnprocessedMessages") != "False":
            problems.append(f'{action["Identifier"]}: DeliverUnprocessedMessages must be "False" (fail closed)')
    # Search (action, processed?) pairs: a queue transfer reached with processed == False is a problem.
    start = (flow["StartAction"], False)
    parent: dict[tuple[str, bool], tuple[str, bool] | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        action = by_id.get(node[0])
        if action is None:
            continue
        if action.get("Type") == "TransferContactToQueue" and not node[1]:
            steps: list[str] = []
            walk: tuple[str, bool] | None = node
            while walk is not None:
                steps.append(walk[0])
                walk = parent[walk]
            problems.append(
                f"{node[0]}: the chat reaches a queue without the message processor "
                f"(path {' -> '.join(reversed(steps))})"
            )
            break
        moves = action.get("Transitions", {})
        enables = action.get("Type") == "UpdateContactMediaProcessing"
        following = [(moves.get("NextAction"), node[1] or enables)] if moves.get("NextAction") else []
        following += [(c["NextAction"], node[1] or enables) for c in moves.get("Conditions", [])]
        following += [(e["NextAction"], node[1]) for e in moves.get("Errors", [])]
        for successor in following:
            if successor not in parent:
                parent[successor] = node
                queue.append(successor)
    return problems


# ============================================================================== what each file must contain

# So that deleting the very block a flow exists for fails too (the checks above would pass a flow without it).
REQUIRED_BLOCKS = {
    "secure-ivr": ("store-input", "decryptor"),
    "chat-redaction": ("processor",),
    "messenger-inbound": ("processor if MESSENGER_USE_PROCESSOR",),
}


def required_block_problems(
    flow_key: str,
    flow: Flow,
    settings: Mapping[str, bool] | None = None,
    decryptor_arns: Iterable[str] = (DECRYPTOR_PLACEHOLDER,),
) -> list[str]:
    problems = []
    actions = flow["Actions"]
    for requirement in REQUIRED_BLOCKS.get(flow_key, ()):
        block, _, condition = requirement.partition(" if ")
        if condition and not (settings or {}).get(condition, False):
            continue
        present = {
            "store-input": any(stores_input(a) for a in actions),
            "decryptor": any(is_decryptor(a, decryptor_arns) for a in actions),
            "processor": any(a.get("Type") == "UpdateContactMediaProcessing" for a in actions),
        }[block]
        if not present:
            problems.append(f"{flow_key} must have a {block} block" + (f" when {condition} is on" if condition else ""))
    return problems


# ============================================================================== all of them


def problems(
    flow: Any,
    decryptor_arns: Iterable[str] = (DECRYPTOR_PLACEHOLDER,),
    flow_key: str = "",
    settings: Mapping[str, bool] | None = None,
) -> list[str]:
    """Every problem of one flow: structure first, then the others as far as the structure lets them run."""
    found = structure_problems(flow)
    arns = tuple(decryptor_arns)
    try:
        return found + (
            required_block_problems(flow_key, flow, settings, arns)
            + data_problems(flow, arns)
            + secure_input_problems(flow, arns)
            + processor_problems(flow)
        )
    except (KeyError, TypeError, AttributeError):  # too malformed to follow: the structure problems say why
        return found or ["the flow is malformed"]


def decryptors_in(flow: Any) -> list[str]:
    """For a file on its own: the placeholder, and any rendered ARN of a function named `…ivr_decryptor`."""
    arns = [DECRYPTOR_PLACEHOLDER]
    if isinstance(flow, dict) and isinstance(flow.get("Actions"), list):
        arns += [
            str(a.get("Parameters", {}).get("LambdaFunctionARN"))
            for a in flow["Actions"]
            if isinstance(a, dict)
            and a.get("Type") == "InvokeLambdaFunction"
            and re.search(r":function:[^:]*ivr_decryptor$", str(a.get("Parameters", {}).get("LambdaFunctionARN")))
        ]
    return arns


def main(argv: list[str] | None = None) -> int:
    from infra.flow_files import FLOWS_DIR, FlowFile

    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])] or sorted(FLOWS_DIR.glob("*.json"))
    failed = False
    for path in paths:
        try:
            content = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            print(f"{path}: cannot read: {exc}")
            failed = True
            continue
        flow_file = FlowFile(key=path.stem, content=content)
        variants = list(flow_file.variants()) if isinstance(content, dict) and "Actions" in content else [({}, content)]
        file_failed = False
        for settings, flow in variants:
            label = ", ".join(f"{k}={'on' if v else 'off'}" for k, v in settings.items())
            found = problems(flow, decryptors_in(flow), flow_key=path.stem, settings=settings)
            for problem in found:
                print(f"{path.name}{f' [{label}]' if label else ''}: {problem}")
            file_failed = file_failed or bool(found)
        if not file_failed:
            print(f"{path.name}: ok")
        failed = failed or file_failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
