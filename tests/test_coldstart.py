"""chalicelib/coldstart.py: the first invocation runs without the cyclic collector and freezes what it loaded."""

from __future__ import annotations

import gc

import pytest

from chalicelib import coldstart


@pytest.fixture
def fresh_process(monkeypatch):
    """As if nothing had passed through yet; the test process's objects are unfrozen again afterwards."""
    monkeypatch.setattr(coldstart, "_first_done", False)
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was_enabled:
        gc.disable()


def test_the_first_pass_pauses_the_collector_then_freezes_what_it_loaded(fresh_process):
    frozen_before = gc.get_freeze_count()
    with coldstart.first_invocation_without_gc():
        assert not gc.isenabled()
        loaded = [[index] for index in range(1000)]  # tracked objects, as a module's would be
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(loaded)


def test_later_passes_leave_the_collector_alone(fresh_process):
    with coldstart.first_invocation_without_gc():
        pass
    frozen = gc.get_freeze_count()
    with coldstart.first_invocation_without_gc():
        assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_collector_comes_back_when_the_first_pass_fails(fresh_process):
    with pytest.raises(RuntimeError), coldstart.first_invocation_without_gc():
        raise RuntimeError("first call failed")
    assert gc.isenabled()


def test_a_collector_disabled_by_someone_else_stays_disabled(fresh_process):
    gc.disable()
    with coldstart.first_invocation_without_gc():
        pass
    assert not gc.isenabled()


def test_the_ivr_entry_point_runs_its_first_call_through_it(fresh_process):
    import app

    frozen_before = gc.get_freeze_count()
    app.ivr_decryptor({}, None)  # no ciphertext: MISSING_INPUT, whatever the settings
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen_before
