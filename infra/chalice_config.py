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
    return config


SCANNED_SCOPES = ("CHAT", "EMAIL", "CASE")  # what FILE_SCANNER sees (docs/reference/file-scanner.md)


def scanner_attachment_limits(configurations: list[dict]) -> dict[str, str]:
    """SCAN_ALLOWED_EXTENSIONS / SCAN_MAX_BYTES (as pseudo-outputs) from ListAttachedFilesConfigurations."""
    from chalicelib.settings import DEFAULT_SCAN_EXTENSIONS_SET

    scanned = [c for c in configurations if c.get("AttachmentScope") in SCANNED_SCOPES]
    if not scanned:
        return {}
    allowed = {
        entry.get("Extension", "").lower().lstrip(".")
        for c in scanned
        for entry in c.get("ExtensionConfiguration", {}).get("AllowedExtensions", [])
    } - {""}
    sizes = [int(c["MaximumSizeLimitInBytes"]) for c in scanned if c.get("MaximumSizeLimitInBytes")]
    limits: dict[str, str] = {}
    if allowed:
        limits["ScanAllowedExtensions"] = ",".join(sorted(allowed & DEFAULT_SCAN_EXTENSIONS_SET))
        limits["_uninspectable"] = ",".join(sorted(allowed - DEFAULT_SCAN_EXTENSIONS_SET))
    if sizes:
        limits["ScanMaxBytes"] = str(min(max(sizes), 100 * 1024 * 1024))
    return limits


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
