"""Shared test setup: dummy AWS credentials and region, no endpoint overrides, log capture with canaries.

Environment is fixed before app.py is imported: `@app.on_sns_message(topic=...)` reads the topic at import.
"""

from __future__ import annotations

import io
import json
import logging
import os

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support import LOCAL_STAGE, REGION, chalice_test_client, forget_container_state

# CI must judge the code, not the luck of the draw: there, property tests replay the same examples on
# every run (a failure found while developing is added as an explicit example). Locally they explore.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


# boto3 signs every call (even Connect Participant's bearer-token calls), so credentials must exist.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "CONNECT_STREAMING_TOPIC_ARN": LOCAL_STAGE["CONNECT_STREAMING_TOPIC_ARN"],
    }
)
for _name in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL") or k in ("AWS_PROFILE", "GRAPH_API_URL")]:
    del os.environ[_name]


@pytest.fixture(autouse=True)
def _cold_container():
    """Every test starts as a cold Lambda container: its own boto3 clients (moto contexts and Stubbers
    are per test) and nothing built on older ones."""
    forget_container_state()
    yield
    forget_container_state()


@pytest.fixture
def stage_env(monkeypatch):
    """The `local` stage's variables in os.environ, for calling use cases outside the Chalice test client."""
    for key, value in LOCAL_STAGE.items():
        monkeypatch.setenv(key, value)
    return dict(LOCAL_STAGE)


@pytest.fixture
def chalice_client():
    """Chalice's test client on the `local` stage; Lambda contexts carry each function's configured timeout."""
    from app import app

    with chalice_test_client(app, "local") as client:
        yield client


class LogCapture:
    """Everything any logger printed, as the JSON lines our formatter writes, plus raw stdout/stderr."""

    def __init__(self, stream: io.StringIO, capfd):
        self._stream = stream
        self._capfd = capfd

    @property
    def text(self) -> str:
        out, err = self._capfd.readouterr()
        self._seen = getattr(self, "_seen", "") + out + err
        return self._stream.getvalue() + self._seen

    def events(self) -> list[dict]:
        lines = [line for line in self._stream.getvalue().splitlines() if line.startswith("{")]
        return [json.loads(line) for line in lines]

    def assert_absent(self, *canaries: str) -> None:
        text = self.text
        for canary in canaries:
            assert canary not in text, "a canary value reached the logs"


@pytest.fixture
def captured_logs(capfd):
    """Capture every log record at DEBUG through the production JSON formatter."""
    from chalicelib import logs

    logs.configure("DEBUG")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield LogCapture(stream, capfd)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
