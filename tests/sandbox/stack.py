"""The sandbox stack for the end-to-end and browser tests: `python -m sandbox` on free ports, started as a user
starts it and stopped with SIGTERM (which must end it cleanly); its output goes to artifacts/<log name>.
The session's stack is the `sandbox` fixture (conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

PROJECT_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_DIR / "artifacts"
READY_TIMEOUT = 90


class RunningSandbox:
    def __init__(self, urls: dict[str, str], process: subprocess.Popen):
        self.urls = urls
        self.process = process
        self.base = urls["sandbox"].rstrip("/").removesuffix("/sandbox")
        self.functions = requests.get(urls["lambda_host"] + "/health", timeout=5).json()["functions"]

    def api(self, path: str, body=None, **kwargs) -> requests.Response:
        """POST to the sandbox's API (what the page does): JSON `body`, or raw `data=` with headers."""
        return requests.post(f"{self.base}/sandbox/api/{path}", json=body, timeout=60, **kwargs)

    def state(self, psid: str | None = None) -> dict:
        return requests.get(
            f"{self.base}/sandbox/api/state", params={"psid": psid} if psid else None, timeout=10
        ).json()


_DIGITS_TO_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def unique_word(length: int = 8) -> str:
    """A word to find one message again by: letters only. A random hex marker is all digits now and then
    (6 hex characters: 6 % of the time), and digits after a card number are rightly masked as its next fragment."""
    return uuid.uuid4().hex[:length].translate(_DIGITS_TO_LETTERS)


def start_sandbox(log_name: str) -> tuple[subprocess.Popen, dict[str, str]]:
    ARTIFACTS.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0"],  # 0: a free port, named in the ready line
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log = open(ARTIFACTS / log_name, "w")
    ready: dict = {}
    got_ready = threading.Event()
    output = process.stdout
    assert output is not None  # started with stdout=PIPE

    def drain():
        for line in output:
            log.write(line)
            log.flush()
            if line.startswith('{"sandbox_ready"'):
                ready.update(json.loads(line)["sandbox_ready"])
                got_ready.set()
        log.close()

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not got_ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the sandbox did not start; see {ARTIFACTS / log_name}")
    return process, ready


def stop_sandbox(process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    process.send_signal(sig)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def eventually(check, timeout: float = 20.0, interval: float = 0.2):
    """Poll `check` until it returns something truthy; the stream is asynchronous, like Connect's."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
