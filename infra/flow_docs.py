"""The generated parts of docs/flows.md: a Mermaid diagram and a block table per flow, from the flow files.

    python -m infra.flow_docs            # rewrites the generated sections of docs/flows.md
    python -m infra.flow_docs --check    # exit 1 if the page is not what the flow files generate

Each generated section sits between `<!-- generated:flow <key> -->` and `<!-- /generated -->`; the text around
them is written by hand. A test runs the check, so a flow edited without regenerating the page fails CI.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.flow_checks import states_seen, stores_input
from infra.flow_files import FlowFile, load_all, transitions

DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "flows.md"
SECTION = re.compile(r"(<!-- generated:flow (?P<key>[a-z-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.DOTALL)

# The console's name of each block (docs/reference/flow-language.md#action-types).
CONSOLE_BLOCKS = {
    "UpdateFlowLoggingBehavior": "Set logging behavior",
    "UpdateContactRecordingBehavior": "Set recording and analytics behavior",
    "GetParticipantInput": "Store customer input",
    "InvokeLambdaFunction": "AWS Lambda function",
    "Compare": "Check contact attributes",
    "MessageParticipant": "Play prompt",
    "UpdateContactMediaProcessing": "Set recording, analytics and processing behavior",
    "UpdateContactTargetQueue": "Set working queue",
    "TransferContactToQueue": "Transfer to queue",
    "DisconnectParticipant": "Disconnect",
    "UpdateContactAttributes": "Set contact attributes",
}


def node_id(identifier: str) -> str:
    """A Mermaid node id: prefixed, since words such as `end` are Mermaid keywords."""
    return "a_" + re.sub(r"[^A-Za-z0-9_]", "_", identifier)


def setting(action: Mapping[str, Any]) -> str:
    """The one setting that matters, in a few words."""
    kind, parameters = action["Type"], action.get("Parameters", {})
    if kind == "UpdateFlowLoggingBehavior":
        return f"logging {parameters['FlowLoggingBehavior'].lower()}"
    if kind == "UpdateContactRecordingBehavior":
        behaviour = parameters.get("RecordingBehavior", {})
        who = ", ".join(behaviour.get("RecordedParticipants", [])) or "nobody"
        return f"record: {who}; IVR {behaviour.get('IVRRecordingBehavior', '?').lower()}"
    if kind == "GetParticipantInput":
        maximum = parameters.get("InputValidation", {}).get("CustomValidation", {}).get("MaximumLength", "?")
        return f"encrypted, ≤ {maximum} digits"
    if kind == "InvokeLambdaFunction":
        function = parameters.get("LambdaFunctionARN", "").removeprefix("{{").removesuffix("}}")
        return f"{function}, {parameters.get('InvocationTimeLimitSeconds', '?')} s"
    if kind == "Compare":
        return str(parameters.get("ComparisonValue", ""))
    if kind == "UpdateContactMediaProcessing":
        processor = parameters.get("ChatProcessor", {})
        unprocessed = processor.get("ChatProcessorSettings", {}).get("DeliverUnprocessedMessages")
        return f"processor on, unprocessed delivered: {unprocessed}"
    if kind == "MessageParticipant":
        return f"“{parameters.get('Text', '')}”"
    if kind == "UpdateContactTargetQueue":
        return str(parameters.get("QueueId", "")).removeprefix("{{").removesuffix("}}")
    return ""


def mermaid(flow: Mapping[str, Any]) -> str:
    lines = ["flowchart TD", f"  entry((start)) --> {node_id(flow['StartAction'])}"]
    secure = {"UpdateFlowLoggingBehavior", "UpdateContactRecordingBehavior", "UpdateContactMediaProcessing"}
    for action in flow["Actions"]:
        label = f"{action['Identifier']}<br/><i>{CONSOLE_BLOCKS.get(action['Type'], action['Type'])}</i>"
        label = label.replace('"', "#quot;")
        shape = {"Compare": '{"%s"}', "DisconnectParticipant": '(["%s"])'}.get(action["Type"], '["%s"]')
        lines.append(f"  {node_id(action['Identifier'])}{shape % label}")
    for action in flow["Actions"]:
        # One edge per (source, target): the labels of every transition between them, joined.
        edges: dict[str, list[str]] = {}
        moves = action.get("Transitions", {})
        errors = {e["NextAction"] for e in moves.get("Errors", [])}
        for move in transitions(action):
            if not move.get("NextAction"):
                continue
            labels = edges.setdefault(move["NextAction"], [])
            if "ErrorType" in move:
                labels.append(move["ErrorType"])
            elif "Condition" in move:
                labels.append("= " + ", ".join(move["Condition"]["Operands"]))
            elif action["Type"] == "Compare" and move["NextAction"] in errors:
                continue  # the same place as NoMatchingCondition
            else:
                labels.append("queued" if action["Type"] == "TransferContactToQueue" else "ok")
        for target, labels in edges.items():
            source, text = node_id(action["Identifier"]), " / ".join(labels)
            if all(label[0].isupper() for label in labels):  # error branches only
                lines.append(f'  {source} -. "{text}" .-> {node_id(target)}')
            elif labels == ["ok"]:
                lines.append(f"  {source} --> {node_id(target)}")
            else:
                lines.append(f'  {source} -- "{text}" --> {node_id(target)}')
    switched = [node_id(a["Identifier"]) for a in flow["Actions"] if a["Type"] in secure]
    if switched:
        lines.append("  classDef switch fill:#fff3cd,stroke:#8a6d3b")
        lines.append(f"  class {','.join(switched)} switch")
    if any(stores_input(a) for a in flow["Actions"]):
        quiet = [
            node_id(action_id)
            for action_id, states in states_seen(dict(flow)).items()
            if states and all(not s.logging and not s.recording for s in states) and node_id(action_id) not in switched
        ]
        lines.append("  classDef quiet fill:#d4edda,stroke:#2e7d32")
        lines.append(f"  class {','.join(quiet)} quiet")
    return "\n".join(lines)


def block_table(flow_file: FlowFile) -> str:
    why = flow_file.content.get("Metadata", {}).get("ConnectGuard", {}).get("Blocks", {})
    rows = ["| Block | Console block | Setting | What it does and why |", "|---|---|---|---|"]
    for action in flow_file.content["Actions"]:
        cells = [
            f"`{action['Identifier']}`",
            CONSOLE_BLOCKS.get(action["Type"], action["Type"]),
            setting(action),
            why.get(action["Identifier"], ""),
        ]
        rows.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |")
    return "\n".join(rows)


def section(flow_file: FlowFile) -> str:
    optional = flow_file.optional_actions
    note = "".join(
        f"\n*`{action}` is kept only when `{name}` is on in the stage; when it is off the deploy removes it "
        f"and its incoming branches go where it went.*\n"
        for action, name in optional.items()
    )
    return f"```mermaid\n{mermaid(flow_file.content)}\n```\n{note}\n{block_table(flow_file)}\n"


def generated_page(text: str, flows: list[FlowFile]) -> str:
    by_key = {f.key: f for f in flows}
    missing = set(by_key) - {m.group("key") for m in SECTION.finditer(text)}
    if missing:
        raise ValueError(f"docs/flows.md has no generated section for {', '.join(sorted(missing))}")
    return SECTION.sub(lambda m: m.group(1) + section(by_key[m.group("key")]) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = DOCS_PAGE.read_text()
    expected = generated_page(text, load_all())
    if "--check" in args:
        if text != expected:
            print("docs/flows.md is not what the flow files generate: run `python -m infra.flow_docs`")
            return 1
        print("docs/flows.md matches the flow files")
        return 0
    DOCS_PAGE.write_text(expected)
    print("docs/flows.md: generated sections rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
