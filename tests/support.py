"""What several test modules share: the project's paths and local stage, and the warm-container reset.
(Fixtures live in conftest.py; tests import plain helpers from modules like this one, never from a conftest.)"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from requests import PreparedRequest

PROJECT_DIR = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
LOCAL_STAGE = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["local"][
    "environment_variables"
]


@cache
def boto3_session() -> Any:
    """One boto3 session for the test process's own clients (Stubbers, doubles): a session per client re-reads
    botocore's data each time (~85 ms a client, against ~5 ms from a shared session)."""
    import boto3

    return boto3.session.Session()


def request_json(request: PreparedRequest) -> Any:
    """The JSON body of a request `responses` recorded (requests types a body as anything it could send)."""
    assert isinstance(request.body, (str, bytes))
    return json.loads(request.body)


def request_url(request: PreparedRequest) -> str:
    """The URL of a request `responses` recorded (a prepared request always has one)."""
    assert request.url is not None
    return request.url


def forget_container_state() -> None:
    """Everything a warm container caches across invocations, in one place."""
    from chalicelib import aws
    from chalicelib.ivr import wiring as ivr_wiring
    from chalicelib.messaging import wiring as messaging_wiring
    from chalicelib.processor import wiring as processor_wiring

    aws.reset()
    processor_wiring.reset()
    messaging_wiring.reset()
    ivr_wiring.reset()  # the decryptor's key store caches keys fetched from SSM


def chalice_test_client(app, stage_name: str, project_dir: Path | str = PROJECT_DIR):
    """`chalice.test.Client` whose Lambda invocations get the context Lambda gives them: the function's configured
    `lambda_timeout` (as sandbox/lambda_host.py does). Chalice's own test client gives every function 3 s of wall
    clock whatever the stage says, so the scanner, which answers within the time left less SCAN_DEADLINE_MARGIN_MS,
    had a 2 s deadline in tests (20 s deployed: its budget, within the 30 s timeout) that a loaded machine could
    spend before a scan ended."""
    from chalice.constants import DEFAULT_LAMBDA_TIMEOUT
    from chalice.test import Client, InvokeResponse, LambdaContext, TestLambdaClient

    class LambdaClient(TestLambdaClient):
        def invoke(self, function_name: str, payload=None) -> InvokeResponse:
            if function_name not in self._app.handler_map:
                return super().invoke(function_name, payload)  # Chalice's FunctionNotFoundError
            scoped = self._config.scope(self._config.chalice_stage, function_name)
            timeout_ms = (scoped.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT) * 1000
            context = LambdaContext(function_name, memory_size=scoped.lambda_memory_size, max_runtime_ms=timeout_ms)
            with self._patched_env_vars(scoped.environment_variables):
                return InvokeResponse(
                    payload=self._app.handler_map[function_name]({} if payload is None else payload, context)
                )

    class ConfiguredTimeoutClient(Client):
        @property
        def lambda_(self) -> TestLambdaClient:
            if self._lambda_client is None:
                self._lambda_client = LambdaClient(self._app, self._chalice_config)
            return self._lambda_client

    return ConfiguredTimeoutClient(app, stage_name=stage_name, project_dir=str(project_dir))
