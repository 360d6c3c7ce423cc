"""A real tiny-llama run through the API: start, follow by SSE across a reconnect, pause, resume, finish."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from peftstudio.runs import Cursor
from peftstudio.store import open_store
from tests.server.conftest import Studio
from tests.server.sse import messages

pytestmark = pytest.mark.slow

START = {"profile": "chatbot", "model": "builtin:tiny-llama", "data": "sample:pirate_chat.jsonl",
         "overrides": {"max_steps": 12, "checkpoint_every_steps": 4, "eval_every_steps": 6}, "name": "live 🦜"}


def _start(client: httpx.Client, **overrides: object) -> str:
    r = client.post("/api/runs", json={**START, "overrides": {**START["overrides"], **overrides}})  # type: ignore[dict-item]
    assert r.status_code == 201, r.text
    assert r.json()["status"] in ("queued", "running")
    return str(r.json()["id"])


def _wait(client: httpx.Client, run_id: str, statuses: tuple[str, ...], timeout: float = 240) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} never reached {statuses}")


def test_sse_reconnect_gets_every_update_once_in_order(client: httpx.Client, studio: Studio) -> None:
    run_id = _start(client)
    url = f"/api/runs/{run_id}/stream"
    seen: list[tuple[str, str]] = []
    last = None
    for mid, event, _ in messages(client, url):
        seen.append((mid, event))
        last = mid
        if sum(e == "metric" for _, e in seen) >= 3:
            break  # the client goes away mid-run
    assert last is not None
    for mid, event, data in messages(client, url, last_id=last):
        seen.append((mid, event))
        if event == "end":
            assert data["status"] == "completed"
    assert seen[-1][1] == "end"
    store = open_store()
    updates = [(Cursor.parse(m), e) for m, e in seen if e != "end"]
    metric_ids = [c.metric for c, e in updates if e == "metric"]
    event_ids = [c.event for c, e in updates if e == "event"]
    reading_ids = [c.reading for c, e in updates if e == "reading"]
    assert metric_ids == [int(m["id"]) for m in store.metrics_after(run_id, 0)]  # each once, in order
    assert event_ids == [int(e["id"]) for e in store.events(run_id)]
    assert reading_ids == [int(r["id"]) for r in store.readings_after(run_id, 0)]
    statuses = [c.status for c, e in updates if e == "status"]
    assert statuses[-1] == "completed" and len(statuses) == len(set(statuses))
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["loss_zones"]["good_below"] < run["loss_zones"]["problem_above"]
    assert run["name"] == "live 🦜" and run["summary"]["steps"] == 12


def test_pause_and_resume_through_the_api(client: httpx.Client) -> None:
    run_id = _start(client, max_steps=400)
    for _, event, data in messages(client, f"/api/runs/{run_id}/stream"):
        if event == "metric" and data["name"] == "loss":
            break
    assert client.post(f"/api/runs/{run_id}/pause").status_code == 200
    paused = _wait(client, run_id, ("paused", "completed"))
    assert paused["status"] == "paused", paused
    assert [r["id"] for r in client.get("/api/runs").json()["runs"]] == [run_id]
    r = client.post(f"/api/runs/{run_id}/resume")
    assert r.status_code == 200 and r.json()["status"] in ("queued", "running")
    # finish quickly: pause again and check the run can be read, then let it stop
    client.post(f"/api/runs/{run_id}/pause")
    assert _wait(client, run_id, ("paused", "completed"))["status"] in ("paused", "completed")


def test_start_needs_data(client: httpx.Client) -> None:
    r = client.post("/api/runs", json={k: v for k, v in START.items() if k != "data"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "config_invalid"


def _waiting_workers() -> set[int]:
    """This process's worker children waiting for a run (started with ``--wait``, no run's worker yet)."""
    import psutil

    training = {run.pid for run in open_store().list_runs()}
    out = set()
    for child in psutil.Process().children():
        try:
            if "--wait" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE and child.pid not in training:
                out.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _one_waiting(timeout: float = 30) -> set[int]:
    """The one waiting worker, once a worker that just finished its run has exited."""
    deadline = time.monotonic() + timeout
    while len(waiting := _waiting_workers()) != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(waiting) == 1, waiting
    return waiting


def test_a_spare_worker_takes_each_run_and_another_waits(tmp_path: Path, fresh_home: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: the studio keeps a worker waiting with its libraries loaded; starting and resuming a run hand
    the run to it (the run's process is the spare's), a new spare waits behind it (here 1 s after, not 15), and
    stopping the studio lets the spare go."""
    import psutil

    import peftstudio.engine.runs as engine_runs
    from tests.server.conftest import local_studio

    monkeypatch.setattr(engine_runs, "REFILL_AFTER_S", 1.0)

    serving = local_studio(tmp_path, spare_worker=True)
    studio = next(serving)
    try:
        with studio.client() as client:
            spare = _one_waiting()
            run_id = _start(client, max_steps=400)
            assert {open_store().get_run(run_id).pid} == spare  # the run went to the waiting worker
            for _, event, data in messages(client, f"/api/runs/{run_id}/stream"):
                if event == "metric" and data["name"] == "loss":
                    break
            second = _one_waiting()
            assert second != spare  # the next one waits
            client.post(f"/api/runs/{run_id}/pause")
            assert _wait(client, run_id, ("paused", "completed"))["status"] == "paused"
            assert client.post(f"/api/runs/{run_id}/resume").status_code == 200
            assert {open_store().get_run(run_id).pid} == second  # resumed in the spare as well
            client.post(f"/api/runs/{run_id}/pause")
            assert _wait(client, run_id, ("paused", "completed"))["status"] in ("paused", "completed")
            last = _one_waiting()
    finally:
        next(serving, None)
    gone, alive = psutil.wait_procs([psutil.Process(pid) for pid in last if psutil.pid_exists(pid)], timeout=30)
    assert not alive  # the studio's stop let its spare exit
