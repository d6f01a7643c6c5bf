"""One sandbox stack per session for the end-to-end and browser tests (tests/sandbox/stack.py)."""

from __future__ import annotations

import pytest

from tests.sandbox.stack import ARTIFACTS, RunningSandbox, start_sandbox, stop_sandbox

STACK_LOG = "sandbox-stack.log"
LOG_LINES_ON_FAILURE = 80


@pytest.fixture(scope="session")
def sandbox():
    process, urls = start_sandbox(STACK_LOG)
    yield RunningSandbox(urls, process)
    assert stop_sandbox(process) == 0, "SIGTERM must stop the sandbox cleanly"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used the stack shows the stack's last log lines (ids and reason codes, never message
    text) in its report: on a CI machine, that report is all there is to read."""
    report = yield
    log = ARTIFACTS / STACK_LOG
    if report.failed and "sandbox" in getattr(item, "fixturenames", ()) and log.exists():
        tail = log.read_text(errors="replace").splitlines(keepends=True)[-LOG_LINES_ON_FAILURE:]
        report.sections.append((f"sandbox stack log, last {len(tail)} lines ({log})", "".join(tail)))
    return report
