"""Writes a deployment's facts into `.chalice/config.json`: the stage's environment and policy files.

Only the deployed stage's `environment_variables` keys we own and its functions' `iam_policy_file` are
touched; everything else (other stages, memory, timeouts, variables you added) is kept as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from infra.policies import policy_file_name
from infra.stage import FUNCTIONS, PROJECT_DIR

# Stage environment variable <- infra stack output.
ENVIRONMENT_FROM_OUTPUTS = {
    "CONNECT_INSTANCE_ID": "ConnectInstanceId",
    "CONNECT_CONTACT_FLOW_ID": "ConnectContactFlowId",
    "CONNECT_STREAMING_TOPIC_ARN": "StreamingTopicArn",
    "SESSIONS_TABLE": "SessionsTableName",
    "MESSENGER_SECRET_ID": "MessengerSecretArn",
    "IVR_KEYS_PATH": "IvrKeysPath",
}


def config_path(project_dir: Path = PROJECT_DIR) -> Path:
    return project_dir / ".chalice" / "config.json"


def stage_environment(outputs: Mapping[str, str]) -> dict[str, str]:
    return {variable: outputs[output] for variable, output in ENVIRONMENT_FROM_OUTPUTS.items()}


def updated_config(config: dict, stage: str, outputs: Mapping[str, str]) -> dict:
    """A copy of `config` with the stage wired to this deployment."""
    config = json.loads(json.dumps(config))
    section = config.setdefault("stages", {}).setdefault(stage, {})
    section["autogen_policy"] = False
    section.setdefault("environment_variables", {}).update(stage_environment(outputs))
    functions = section.setdefault("lambda_functions", {})
    for function in FUNCTIONS:
        functions.setdefault(function, {})["iam_policy_file"] = policy_file_name(stage, function)
    _wire_scanner_antivirus(functions.setdefault("attachment_scanner", {}), outputs)
    for variable, output in (
        ("ATTACHMENT_ALLOWED_EXTENSIONS", "AttachmentAllowedExtensions"),
        ("ATTACHMENT_MAX_BYTES", "AttachmentMaxBytes"),
    ):
        if outputs.get(output):  # the Messenger relay follows the chat scope's limits
            section["environment_variables"][variable] = outputs[output]
    return config


SCANNED_SCOPES = ("CHAT", "EMAIL", "CASE")  # what FILE_SCANNER sees (docs/reference/file-scanner.md)


def attachment_limits(configurations: list[dict]) -> dict[str, str]:
    """The instance's attachment configuration (ListAttachedFilesConfigurations) as pseudo-outputs, so that one
    place, Connect's own per-scope settings, sets every size and type limit we enforce:
    - the scanner (SCAN_ALLOWED_EXTENSIONS / SCAN_MAX_BYTES): the union of the scopes FILE_SCANNER sees, and the
      largest of their size limits (the scan event does not say which scope a file came from);
    - the Messenger relay (ATTACHMENT_ALLOWED_EXTENSIONS / ATTACHMENT_MAX_BYTES): the CHAT scope it uploads to,
      so a file Connect would refuse is refused before it is downloaded, with a note that says why.
    """
    from chalicelib.settings import DEFAULT_SCAN_EXTENSIONS_SET

    scanned = [c for c in configurations if c.get("AttachmentScope") in SCANNED_SCOPES]
    limits: dict[str, str] = {}
    allowed = set().union(*(_extensions(c) for c in scanned))
    sizes = [_size(c) for c in scanned if _size(c)]
    if allowed:
        limits["ScanAllowedExtensions"] = ",".join(sorted(allowed & DEFAULT_SCAN_EXTENSIONS_SET))
        limits["_uninspectable"] = ",".join(sorted(allowed - DEFAULT_SCAN_EXTENSIONS_SET))
    if sizes:
        limits["ScanMaxBytes"] = str(max(sizes))
    for chat in (c for c in configurations if c.get("AttachmentScope") == "CHAT"):
        if _extensions(chat):
            limits["AttachmentAllowedExtensions"] = ",".join(sorted(_extensions(chat) & DEFAULT_SCAN_EXTENSIONS_SET))
        if _size(chat):
            limits["AttachmentMaxBytes"] = str(_size(chat))
    return limits


def _extensions(configuration: dict) -> set[str]:
    entries = configuration.get("ExtensionConfiguration", {}).get("AllowedExtensions", [])
    return {entry.get("Extension", "").lower().lstrip(".") for entry in entries} - {""}


def _size(configuration: dict) -> int:
    """The scope's size limit within Connect's range (0: not set)."""
    return min(int(configuration.get("MaximumSizeLimitInBytes") or 0), 100 * 1024 * 1024)


def _wire_scanner_antivirus(scanner: dict, outputs: Mapping[str, str]) -> None:
    """SCAN_ANTIVIRUS (and clamd's address) from the stack; with clamav, the scanner joins clamd's VPC."""
    environment = scanner.setdefault("environment_variables", {})
    for variable, output in (("SCAN_ALLOWED_EXTENSIONS", "ScanAllowedExtensions"), ("SCAN_MAX_BYTES", "ScanMaxBytes")):
        if outputs.get(output):
            environment[variable] = outputs[output]
    engine = outputs.get("ScanAntivirus") or "off"
    environment["SCAN_ANTIVIRUS"] = engine
    if engine == "clamav" and outputs.get("ScanClamavAddress"):
        environment["SCAN_CLAMAV_ADDRESS"] = outputs["ScanClamavAddress"]
        scanner["subnet_ids"] = [subnet for subnet in outputs.get("ScannerSubnetIds", "").split(",") if subnet]
        scanner["security_group_ids"] = (
            [outputs["ScannerSecurityGroupId"]] if outputs.get("ScannerSecurityGroupId") else []
        )
    else:
        environment.pop("SCAN_CLAMAV_ADDRESS", None)
        scanner.pop("subnet_ids", None)
        scanner.pop("security_group_ids", None)


def write(stage: str, outputs: Mapping[str, str], project_dir: Path = PROJECT_DIR) -> Path:
    path = config_path(project_dir)
    config = updated_config(json.loads(path.read_text()), stage, outputs)
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path
