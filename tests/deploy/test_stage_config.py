"""The deployed stages' per-function settings in .chalice/config.json fit the limits they run under."""

from __future__ import annotations

import json

import pytest

from chalicelib import settings
from infra.stage import FUNCTIONS, STAGES
from tests.support import PROJECT_DIR

CONFIG = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
CONNECT_FLOW_LIMIT_S = 8  # Invoke AWS Lambda function block (docs/reference/ivr-encryption.md)
CONNECT_SCANNER_LIMIT_S = 60  # FILE_SCANNER, retries included (docs/reference/file-scanner.md)
API_GATEWAY_LIMIT_S = 29


def function(stage: str, name: str) -> dict:
    return CONFIG["stages"][stage]["lambda_functions"][name]


@pytest.mark.parametrize("stage", STAGES)
def test_timeouts_fit_the_callers_limits(stage):
    assert function(stage, "ivr_decryptor")["lambda_timeout"] <= CONNECT_FLOW_LIMIT_S
    assert function(stage, "attachment_scanner")["lambda_timeout"] < CONNECT_SCANNER_LIMIT_S
    assert function(stage, "api_handler")["lambda_timeout"] < API_GATEWAY_LIMIT_S


@pytest.mark.parametrize("stage", STAGES)
def test_the_scanner_decides_before_its_lambda_times_out(stage):
    """Its own budget plus the margin it keeps to answer must end inside the Lambda timeout, or a slow
    file ends as a timeout (an error Connect retries) instead of a logged REJECTED."""
    environment = {**CONFIG.get("environment_variables", {}), **CONFIG["stages"][stage]["environment_variables"]}
    scanner = settings.ScannerSettings.parse(settings._Reader(environment))
    budget_ms = getattr(scanner, "time_budget_ms", 0)
    assert budget_ms + scanner.deadline_margin_ms < function(stage, "attachment_scanner")["lambda_timeout"] * 1000


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_is_configured_and_deploys_to_arm64_with_a_shared_layer(stage):
    section = CONFIG["stages"][stage]
    assert section["lambda_architecture"] == "arm64" and section["automatic_layer"] is True
    assert set(section["lambda_functions"]) == set(FUNCTIONS)
    for name in FUNCTIONS:
        assert 128 <= function(stage, name)["lambda_memory_size"] <= 10240


@pytest.mark.parametrize("stage", STAGES)
def test_stage_environment_names_secrets_never_holds_them(stage):
    for name, value in CONFIG["stages"][stage]["environment_variables"].items():
        assert isinstance(value, str)
        if name == "MESSENGER_SECRET_ID":
            assert value.startswith("arn:aws") or "/" in value
        assert not any(word in name for word in ("TOKEN", "PASSWORD", "PRIVATE_KEY", "APP_SECRET"))
