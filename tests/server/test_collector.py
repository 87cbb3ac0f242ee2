"""The collector's thresholds are the server entry points' to set, never the library's."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from jointplan.server.collector import SERVING_THRESHOLDS
from tests.conftest import EXAMPLES


@pytest.fixture
def thresholds() -> Iterator[None]:
    # A one-shot command run in this process by an earlier test (CliRunner)
    # switches the collector off, as the command line does: start from on.
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)
    gc.enable()
    yield
    gc.set_threshold(*before)
    if not enabled:
        gc.disable()


def test_a_server_process_raises_the_collectors_thresholds(
        thresholds, monkeypatch, tmp_path) -> None:
    from jointplan.api import worker

    monkeypatch.setenv("JOINTPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    worker.app()
    assert gc.get_threshold() == SERVING_THRESHOLDS
    # The youngest generation's, so that what requests in flight hold is rarely promoted;
    # and the oldest's, so that a full collection waits for more younger ones.
    assert SERVING_THRESHOLDS[0] >= 10_000 and SERVING_THRESHOLDS[2] > 10
    assert gc.isenabled()


def test_the_library_and_the_hub_leave_the_collector_alone(thresholds, tmp_path) -> None:
    from jointplan.server.analysis import check_for
    from jointplan.server.hub import Hub
    from jointplan.server.plans import import_folder
    from jointplan.services.accounts import Actor
    from jointplan.services.workspaces import load_checked

    load_checked(EXAMPLES / "northern-strait")
    hub = Hub(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        import_folder(hub, EXAMPLES / "northern-strait")
        check_for(hub, Actor("u", "u", "NOR", "planner"))
    finally:
        hub.db.engine.dispose()
    assert gc.get_threshold() == (700, 10, 10) and gc.isenabled()
