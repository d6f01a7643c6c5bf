"""The documented `chalice local` path (docs/local.md), driven exactly as a user types it.

- `make local` = `python -m sandbox --local --port 8000`: chalice local --stage local wired to the emulators;
- `python -m tools.messenger_send "my card is ..."`: signs, posts, prints what the agent received;
- plain `chalice local` (and `--stage local` without emulators): one line naming what is missing and `make local`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sandbox.ports import reserved_port

pytestmark = pytest.mark.e2e

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHALICE = str(Path(sys.executable).with_name("chalice"))
READY_TIMEOUT = 90
CARD = "4111 1111 1111 1111"


def _clean_env() -> dict[str, str]:
    """A user's shell: no AWS settings, none of the app's variables."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "CONNECT_", "SESSIONS_", "MESSENGER_", "GRAPH_", "PII_", "SCAN_", "IVR_"))
    }


def _lines_until(process: subprocess.Popen, predicate, timeout: float) -> list[str]:
    """Read the process's output until a line satisfies `predicate` (or it exits / time runs out)."""
    seen: list[str] = []
    found = threading.Event()
    output = process.stdout
    assert output is not None  # started with stdout=PIPE

    def drain():
        for line in output:
            seen.append(line)
            if predicate(line):
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.2) and process.poll() is None and time.monotonic() < deadline:
        pass
    return seen


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    state = tmp_path_factory.mktemp("local") / "stack.json"
    with reserved_port() as port:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--local", "--port", str(port), "--state-file", str(state)],
            cwd=PROJECT_DIR,
            env=_clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = _lines_until(process, lambda line: line.startswith('{"sandbox_ready"'), READY_TIMEOUT)
        if not state.exists():
            process.kill()
            pytest.fail("make local did not start:\n" + "".join(lines[-30:]))
        yield port, state
        assert _stop(process) == 0, "SIGTERM must stop the local stack cleanly"
        assert not state.exists(), "the state file is removed on exit"


def _send(state: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.messenger_send", "--stack", str(state), *args],
        cwd=PROJECT_DIR,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_local_serves_the_webhook_with_chalice_local_on_the_port(local_stack):
    port, state = local_stack
    urls = json.loads(state.read_text())
    assert urls["webhook"] == f"http://127.0.0.1:{port}/webhook/messenger"
    import requests

    verify = requests.get(
        urls["webhook"],
        timeout=10,
        params={"hub.mode": "subscribe", "hub.verify_token": urls["verify_token"], "hub.challenge": "31337"},
    )
    assert (verify.status_code, verify.text) == (200, "31337")
    assert requests.get(f"http://127.0.0.1:{port}/sandbox/", timeout=10).status_code != 200, "no page under make local"


def test_messenger_send_prints_what_the_agent_received(local_stack):
    _, state = local_stack
    result = _send(state, f"my card is {CARD}")
    assert result.returncode == 0, result.stderr
    assert "-> 200 EVENT_RECEIVED" in result.stdout
    assert "agent received: my card is [CREDIT_DEBIT_NUMBER]" in result.stdout
    assert CARD not in result.stdout.split("agent received:", 1)[1]


def test_messenger_send_curl_reproduces_the_signed_request(local_stack):
    _, state = local_stack
    command = _send(state, "--curl", "hello from curl").stdout.strip()
    assert command.startswith("curl ") and "X-Hub-Signature-256: sha256=" in command
    answer = subprocess.run(["bash", "-c", command + " -w ' %{http_code}'"], capture_output=True, text=True, timeout=60)
    assert answer.stdout.endswith(" 200"), answer.stdout + answer.stderr


def test_messenger_send_without_a_stack_says_what_to_run(tmp_path):
    result = _send(tmp_path / "none.json", "hi")
    assert result.returncode == 2
    assert "make local" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("stage_args, missing", [([], "CONNECT_INSTANCE_ID"), (["--stage", "local"], "no AWS region")])
def test_plain_chalice_local_prints_one_line_naming_the_fix(stage_args, missing):
    with reserved_port() as port:
        process = subprocess.Popen(
            [CHALICE, "local", "--port", str(port), "--no-autoreload", *stage_args],
            cwd=PROJECT_DIR,
            env=_clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            lines = _lines_until(process, lambda line: line.startswith("Serving on"), 60)
        finally:
            _stop(process)
    hints = [line for line in lines if line.startswith("connect-guard:")]
    assert len(hints) == 1, "".join(lines)
    assert missing in hints[0] and "make local" in hints[0]
