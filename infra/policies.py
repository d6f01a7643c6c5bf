"""Least-privilege IAM policies, one per function, rendered from `infra/policies/<function>.json`.

The templates name resources with `${Placeholders}` filled from the infra stack's outputs, so every
Resource is an exact ARN of this deployment. A statement whose resource is an optional ARN left empty
(e.g. no customer managed key on the attachments bucket) is dropped rather than widened, and so is a
statement for a capability the function's configuration leaves off (Comprehend with `PII_ENGINE=local`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

from infra.stage import FUNCTIONS, INFRA_DIR, PROJECT_DIR, Stage

TEMPLATES_DIR = INFRA_DIR / "policies"


def uses_comprehend(environment: Mapping[str, str]) -> bool:
    return environment.get("PII_ENGINE", "local").strip().lower() in ("comprehend", "both")


def uses_guardduty(environment: Mapping[str, str]) -> bool:
    return environment.get("SCAN_ANTIVIRUS", "off").strip().lower() == "guardduty"


def uses_clamav(environment: Mapping[str, str]) -> bool:
    return environment.get("SCAN_ANTIVIRUS", "off").strip().lower() == "clamav"


# Statements (by Sid) granted only when the function's environment turns their capability on.
CONFIGURED_STATEMENTS = {
    "RedactWithComprehend": uses_comprehend,
    "ReadGuardDutyScanTag": uses_guardduty,
    "NetworkInterfacesInClamdVpc": uses_clamav,
}


def policy_file_name(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


def policy_path(stage: str, function: str, project_dir: Path = PROJECT_DIR) -> Path:
    return project_dir / ".chalice" / policy_file_name(stage, function)


def placeholder_values(stage: Stage, outputs: Mapping[str, str], function: str) -> dict[str, str]:
    """Everything a policy template may name, for one function."""
    path = outputs["IvrKeysPath"].rstrip("/")
    return {
        **outputs,
        "Partition": stage.partition,
        "Region": stage.region,
        "AccountId": stage.account,
        "LogGroupArn": stage.log_group_arn(function),
        "IvrKeysPathArn": f"arn:{stage.partition}:ssm:{stage.region}:{stage.account}:parameter{path}",
    }


def function_environment(config: Mapping[str, Any], stage: str, function: str) -> dict[str, str]:
    """The variables Chalice gives the function: top level < stage < the stage's function section."""
    section = config.get("stages", {}).get(stage, {})
    return {
        **config.get("environment_variables", {}),
        **section.get("environment_variables", {}),
        **section.get("lambda_functions", {}).get(function, {}).get("environment_variables", {}),
    }


def render(
    template: Mapping[str, Any], values: Mapping[str, str], environment: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The policy with every placeholder filled; statements about an empty optional resource, or about a
    capability the environment leaves off, dropped."""
    statements = []
    for statement in template["Statement"]:
        enabled = CONFIGURED_STATEMENTS.get(statement.get("Sid", ""))
        if enabled is not None and not enabled(environment or {}):
            continue
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if any(_fill(r, values) == "" for r in resources):
            continue
        statements.append(_fill(statement, values))
    return {"Version": template["Version"], "Statement": statements}


def render_all(stage: Stage, outputs: Mapping[str, str], config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{function: policy document} for every function of the app, given `.chalice/config.json`."""
    return {
        function: render(
            load_template(function),
            placeholder_values(stage, outputs, function),
            function_environment(config, stage.name, function),
        )
        for function in FUNCTIONS
    }


def load_template(function: str) -> dict[str, Any]:
    return json.loads((TEMPLATES_DIR / f"{function}.json").read_text())


def write_all(stage: Stage, outputs: Mapping[str, str], project_dir: Path = PROJECT_DIR) -> list[Path]:
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    written = []
    for function, policy in render_all(stage, outputs, config).items():
        path = policy_path(stage.name, function, project_dir)
        path.write_text(json.dumps(policy, indent=2) + "\n")
        written.append(path)
    return written


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return Template(value).substitute(values)  # an unknown placeholder is a KeyError, never left in
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {_fill(k, values): _fill(v, values) for k, v in value.items()}
    return value
