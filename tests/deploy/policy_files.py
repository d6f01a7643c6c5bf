"""The policies the deploy tests read: the committed `.chalice/policy-<stage>-<function>.json` files and the
templates in infra/policies/ rendered for the example stage, and small readers of their statements."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from fnmatch import fnmatchcase

from infra import policies
from infra.stage import FUNCTIONS, STAGES, Stage
from tests.support import PROJECT_DIR

FULL_OPTIONS = {
    "AttachmentsKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "IvrKeysKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee",
}


def example_stage(stage: str = "prod", **overrides) -> Stage:
    params = json.loads((PROJECT_DIR / "infra" / "params.example.json").read_text())
    return Stage.from_params(stage, {**params, **overrides}, "connect-guard")


CONFIG = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())


def config_with_engine(engine: str) -> dict:
    config = json.loads(json.dumps(CONFIG))
    config["environment_variables"] = {**config.get("environment_variables", {}), "PII_ENGINE": engine}
    return config


def rendered(stage: Stage, engine: str = "both") -> dict[str, dict]:
    return policies.render_all(stage, stage.predicted_outputs(), config_with_engine(engine))


def committed(stage: str) -> dict[str, dict]:
    return {f: json.loads(policies.policy_path(stage, f).read_text()) for f in FUNCTIONS}


def configured_actions(function: str) -> dict[str, Callable[[Mapping[str, str]], bool]]:
    """{action: predicate over the function's environment} for statements granted only when configured."""
    template = policies.load_template(function)
    return {
        a: policies.CONFIGURED_STATEMENTS[s["Sid"]]
        for s in template["Statement"]
        if s.get("Sid") in policies.CONFIGURED_STATEMENTS
        for a in as_list(s["Action"])
    }


def all_policies() -> list[tuple[str, str, dict]]:
    cases = [(f"{s}-committed", f, p) for s in STAGES for f, p in committed(s).items()]
    cases += [("prod-full-options", f, p) for f, p in rendered(example_stage(**FULL_OPTIONS)).items()]
    return cases


def statements(policy: dict) -> list[dict]:
    return [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def as_list(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def allows(policy: dict, action: str) -> bool:
    return any(
        fnmatchcase(action.lower(), pattern.lower()) for s in statements(policy) for pattern in as_list(s["Action"])
    )


def granted(policy: dict) -> set[str]:
    return {a for s in statements(policy) for a in as_list(s["Action"])}
