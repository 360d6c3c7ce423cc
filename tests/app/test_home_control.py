"""The home screen's controller part without a window: recent runs with their status and the buttons each
offers, a run whose worker died shown as stopped, and where the big buttons and the run buttons lead."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import present_home
from app.controller import Controller
from peftstudio import open_store
from tests.app.helpers import fake_run


@pytest.fixture()
def ctrl() -> Controller:
    return Controller(poll_interval=60)


@pytest.mark.parametrize(("status", "actions", "labels"), [
    ("completed", ["playground", "export"], ["Playground", "Export"]),
    ("paused", ["resume", "dashboard"], ["Resume", "Details"]),
    ("failed", ["resume", "dashboard"], ["Resume", "Details"]),
    ("running", ["dashboard"], ["Watch"]),
    ("queued", ["dashboard"], ["Watch"]),
])
def test_each_status_offers_its_buttons(status: str, actions: list[str], labels: list[str]) -> None:
    assert present_home.actions_for(status) == actions
    assert [present_home.action_label(a, status) for a in actions] == labels


def stored_runs() -> dict[str, str]:
    """One run in each status, as the store holds them (no workers)."""
    store = open_store()
    ids = {status: fake_run(store) for status in ("completed", "paused", "failed", "running")}
    store.update_run(ids["completed"], status="completed", name="Pirate chat",
                     summary={"total_steps": 10, "steps": 10, "duration_seconds": 95, "final_loss": 1.23456})
    store.update_run(ids["paused"], status="paused", summary={"total_steps": 40, "pause": {"step": 12}})
    store.update_run(ids["failed"], status="failed", error={"code": "out_of_memory", "title": "Out of memory"})
    return ids


def test_a_run_as_a_row_says_what_it_is_and_how_it_went() -> None:
    ids = stored_runs()
    store = open_store()
    rows = {status: present_home.run_row(store.get_run(rid)) for status, rid in ids.items()}
    done = rows["completed"]
    assert done["name"] == "Pirate chat" and done["status_text"] == "Finished" and done["when"] == "just now"
    assert done["detail"] == "Chatbot  ·  tiny-llama (built in)  ·  10 steps in 1 min 35 s  ·  final loss 1.235"
    assert rows["paused"]["detail"].endswith("paused at step 12 of 40") and rows["paused"]["labels"][0] == "Resume"
    assert rows["failed"]["detail"].endswith("Out of memory") and rows["failed"]["status_text"] == "Stopped by a problem"
    assert rows["running"]["detail"].endswith("100 steps planned") and rows["running"]["actions"] == ["dashboard"]


def test_recent_runs_newest_first_and_a_dead_worker_shows_as_stopped(ctrl: Controller) -> None:
    ids = stored_runs()
    store = open_store()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_run(ids["running"], pid=dead.pid)  # its worker is gone: the library notices
    ctrl.refresh_home()
    assert ctrl.wait_idle() and ctrl.home_loaded
    assert [r["id"] for r in ctrl.recent_runs] == [ids[s] for s in ("running", "failed", "paused", "completed")]
    assert ctrl.recent_runs[0]["status"] == "failed" and ctrl.recent_runs[0]["actions"][0] == "resume"
    assert store.get_run(ids["running"]).error["code"] == "interrupted_run"


def test_only_the_newest_runs_are_listed(ctrl: Controller) -> None:
    store = open_store()
    for _ in range(present_home.RECENT + 2):
        fake_run(store)
    ctrl.refresh_home()
    assert ctrl.wait_idle() and len(ctrl.recent_runs) == present_home.RECENT


@pytest.mark.parametrize(("tile", "screen"), [("new", "welcome"), ("presets", "presets"), ("compare", "compare"),
                                              ("versions", "versions")])
def test_the_big_buttons_lead_to_their_screens(ctrl: Controller, tile: str, screen: str) -> None:
    ctrl.home_go(tile)
    assert ctrl.wait_idle()
    assert ctrl.screen_request == screen


def test_run_buttons_lead_to_the_dashboard_playground_and_export(ctrl: Controller) -> None:
    ids = stored_runs()
    ctrl.run_action(ids["running"], "dashboard")
    assert ctrl.run_id == ids["running"] and ctrl.screen_request == "dashboard"
    ctrl.run_action(ids["completed"], "playground")
    assert ctrl.playground_run_id == ids["completed"] and ctrl.screen_request == "playground"
    ctrl.run_action(ids["completed"], "export")
    assert ctrl.wait_idle()
    assert ctrl.screen_request == "export"
    with pytest.raises(ValueError, match="unknown run action 'delete'"):
        ctrl.run_action(ids["completed"], "delete")
