"""The contact flows in `infra/flows/`: loading them and rendering them for one deployment.

A flow file is Amazon Connect flow language (docs/reference/flow-language.md) with two additions that
never reach Connect:

- placeholders `{{Name}}` inside string values (ARNs, key ids, the certificate, the queue), filled from the
  stage by `render`; an unknown or unfilled placeholder is an error, never an empty string;
- `Metadata.ConnectGuard`: the flow's name, type and description for `CreateContactFlow`, and `Optional`
  (action id -> setting name): an action kept only when that setting is on. When it is off, the action is
  removed and every transition to it goes where the action's own `NextAction` went.

`render` replaces `Metadata` with designer positions (`entryPointPosition`, `ActionMetadata`) so a flow
imported by hand in the console shows its blocks laid out left to right.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLOWS_DIR = Path(__file__).resolve().parent / "flows"
FLOW_NAMES = ("secure-ivr", "chat-redaction", "messenger-inbound")
VERSION = "2019-10-30"

PLACEHOLDER = re.compile(r"\{\{([A-Za-z][A-Za-z0-9]*)\}\}")
# Every placeholder a flow may use, and what fills it (docs/flows.md#placeholders).
PLACEHOLDERS = {
    "IvrDecryptorArn": "ARN of the deployed ivr_decryptor function",
    "MessageProcessorArn": "ARN of the deployed message_processor function",
    "IvrEncryptionKeyId": "Connect key id of the uploaded public key (parameter IvrEncryptionKeyId)",
    "IvrCertificate": "certificate PEM signed by that key (parameter IvrCertificateFile)",
    "QueueArn": "queue the flows transfer to (parameter FlowQueueArn)",
}

Flow = dict[str, Any]


class FlowError(ValueError):
    """A flow file cannot be rendered; the message names the flow and what is wrong."""


@dataclass(frozen=True)
class FlowFile:
    """One file of `infra/flows/`."""

    key: str  # file name without .json, e.g. "secure-ivr"
    content: Flow

    @property
    def _meta(self) -> dict[str, Any]:
        meta = self.content.get("Metadata", {}).get("ConnectGuard", {})
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self._meta.get("Name", self.key))

    @property
    def flow_type(self) -> str:
        return str(self._meta.get("Type", "CONTACT_FLOW"))

    @property
    def description(self) -> str:
        return str(self._meta.get("Description", ""))

    @property
    def optional_actions(self) -> dict[str, str]:
        optional = self._meta.get("Optional", {})
        return {str(k): str(v) for k, v in optional.items()} if isinstance(optional, dict) else {}

    def placeholders(self) -> set[str]:
        return {match for text in strings(self.content["Actions"]) for match in PLACEHOLDER.findall(text)}

    def variants(self) -> Iterator[tuple[dict[str, bool], Flow]]:
        """Every combination of its switches, with the flow as Connect would get it (placeholders kept)."""
        switches = sorted(set(self.optional_actions.values()))
        for mask in range(2 ** len(switches)):
            settings = {name: bool(mask >> i & 1) for i, name in enumerate(switches)}
            yield settings, self.select(settings)

    def select(self, settings: Mapping[str, bool]) -> Flow:
        """The flow with each optional action kept or removed by its setting (missing setting: removed)."""
        flow = copy.deepcopy(self.content)
        for action_id, setting in self.optional_actions.items():
            if not settings.get(setting, False):
                flow = without_action(flow, action_id)
        return flow


def load(key: str, directory: Path = FLOWS_DIR) -> FlowFile:
    path = directory / f"{key}.json"
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise FlowError(f"{path.name}: not valid JSON (line {exc.lineno})") from None
    if not isinstance(content, dict) or not isinstance(content.get("Actions"), list):
        raise FlowError(f"{path.name}: not a flow (no Actions list)")
    return FlowFile(key=key, content=content)


def load_all(directory: Path = FLOWS_DIR) -> list[FlowFile]:
    return [load(key, directory) for key in FLOW_NAMES]


def without_action(flow: Flow, action_id: str) -> Flow:
    """Removes one action; every transition to it is redirected to its `NextAction`."""
    actions = flow["Actions"]
    removed = next((a for a in actions if a.get("Identifier") == action_id), None)
    if removed is None:
        raise FlowError(f"optional action {action_id!r} is not in the flow")
    successor = removed.get("Transitions", {}).get("NextAction")
    if not successor:
        raise FlowError(f"optional action {action_id!r} has no NextAction to skip to")
    flow["Actions"] = [a for a in actions if a is not removed]
    if flow.get("StartAction") == action_id:
        flow["StartAction"] = successor
    for action in flow["Actions"]:
        for transition in transitions(action):
            if transition.get("NextAction") == action_id:
                transition["NextAction"] = successor
    return flow


def transitions(action: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The action's `Transitions` object and each of its error and condition entries (all hold NextAction)."""
    moves = action.get("Transitions")
    if not isinstance(moves, dict):
        return
    yield moves
    for kind in ("Errors", "Conditions"):
        entries = moves.get(kind, [])
        if isinstance(entries, list):
            yield from (entry for entry in entries if isinstance(entry, dict))


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    return value


def fill(flow: Flow, values: Mapping[str, str], flow_key: str = "flow") -> Flow:
    """Placeholders replaced inside string values (so a PEM's newlines stay valid JSON)."""
    unknown = sorted({m for text in strings(flow) for m in PLACEHOLDER.findall(text)} - set(values))
    if unknown:
        raise FlowError(f"{flow_key}: no value for placeholder(s) {', '.join(unknown)}")
    empty = sorted(name for name, value in values.items() if not value.strip())
    used_empty = [name for name in empty if any(f"{{{{{name}}}}}" in text for text in strings(flow))]
    if used_empty:
        raise FlowError(f"{flow_key}: empty value for placeholder(s) {', '.join(used_empty)}")
    filled: Flow = map_strings(flow, lambda text: PLACEHOLDER.sub(lambda m: values[m.group(1)], text))
    return filled


def designer_metadata(flow: Flow) -> dict[str, Any]:
    """Positions for the console's designer: one column per distance from the start, one row per action."""
    depth = {flow["StartAction"]: 0}
    queue = [flow["StartAction"]]
    by_id = {a["Identifier"]: a for a in flow["Actions"]}
    while queue:
        current = queue.pop(0)
        for move in transitions(by_id.get(current, {})):
            target = move.get("NextAction")
            if target in by_id and target not in depth:
                depth[target] = depth[current] + 1
                queue.append(target)
    rows: dict[int, int] = {}
    positions: dict[str, Any] = {}
    for action in flow["Actions"]:
        column = depth.get(action["Identifier"], max(depth.values(), default=0) + 1)
        row = rows.get(column, 0)
        rows[column] = row + 1
        positions[action["Identifier"]] = {"position": {"x": 240 + 260 * column, "y": 40 + 200 * row}}
    return {"entryPointPosition": {"x": 40, "y": 40}, "ActionMetadata": positions}


def render(flow_file: FlowFile, values: Mapping[str, str], settings: Mapping[str, bool]) -> Flow:
    """The content to upload: switches applied, placeholders filled, our metadata replaced by positions."""
    flow = fill(flow_file.select(settings), values, flow_file.key)
    flow["Metadata"] = designer_metadata(flow)
    return flow


def content_text(flow: Flow) -> str:
    """The `Content` string sent to Connect (compact; well under the 256,000-character limit)."""
    return json.dumps(flow, separators=(",", ":"), ensure_ascii=False)
