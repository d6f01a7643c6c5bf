"""One replay deployment per test module (moto, the app, the web doubles); each test gets `world`, a
fresh sessions table and a fresh Connect on it."""

from __future__ import annotations

import pytest

from tests.messaging.replay.world import replay_deployment


@pytest.fixture(scope="module")
def deployment():
    with pytest.MonkeyPatch.context() as monkeypatch, replay_deployment(monkeypatch) as shared:
        yield shared


@pytest.fixture
def world(deployment):
    return deployment.fresh()
