"""One sandbox stack per session for the end-to-end and browser tests (tests/sandbox/stack.py)."""

from __future__ import annotations

import pytest

from tests.sandbox.stack import RunningSandbox, start_sandbox, stop_sandbox


@pytest.fixture(scope="session")
def sandbox():
    process, urls = start_sandbox("sandbox-stack.log")
    yield RunningSandbox(urls, process)
    assert stop_sandbox(process) == 0, "SIGTERM must stop the sandbox cleanly"
