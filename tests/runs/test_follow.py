"""The typed run API on real builtin:tiny-llama runs: `follow` delivers every update once, in order,
across a pause and resume, and a follower that reconnects with its cursor misses and repeats nothing."""

from __future__ import annotations

import threading
import time

import pytest

from peftstudio import runs
from peftstudio.engine.runs import pause_run, resume_run, start_run
from peftstudio.errors import PlainError
from peftstudio.store import open_store
from tests.engine.test_runs import config, wait_for_step

pytestmark = pytest.mark.slow


def test_follow_delivers_every_metric_once_in_order_across_pause_and_resume() -> None:
    store = open_store()
    run_id = start_run(config(max_steps=16, checkpoint_every_steps=4, eval_every_steps=8))
    seen: list[runs.Update] = []
    first = runs.follow(run_id, store=store, poll_s=0.05, timeout_s=600, stop_on_pause=True)
    wait_for_step(store, run_id, 5)
    pause_run(run_id, wait=True)
    seen += list(first)  # ends at the pause
    assert isinstance(seen[-1], runs.StatusUpdate) and seen[-1].status == "paused"
    cursor = str(seen[-1].cursor)  # what an SSE client would send back as Last-Event-ID

    resume_run(run_id)
    # A follower that drops and reconnects mid-way, as a browser would.
    second = runs.follow(run_id, cursor, store=store, poll_s=0.05, timeout_s=600)
    for update in second:
        seen.append(update)
        if isinstance(update, runs.MetricUpdate) and update.step >= 10:
            break
    seen += list(runs.follow(run_id, seen[-1].cursor, store=store, poll_s=0.05, timeout_s=600))

    assert seen[-1].status == "completed"  # type: ignore[union-attr]
    statuses = [u.status for u in seen if isinstance(u, runs.StatusUpdate)]
    assert statuses.count("paused") == 1
    after = statuses[statuses.index("paused") + 1:]  # resumed: queued again, then running, then completed
    assert after[-2:] == ["running", "completed"] and set(after) <= {"queued", "running", "completed"}
    metric_ids = [u.cursor.metric for u in seen if isinstance(u, runs.MetricUpdate)]
    stored = [m["id"] for m in store.metrics_after(run_id)]
    assert metric_ids == sorted(set(metric_ids))  # once each, in order
    # every metric the store holds now was delivered (rows of steps replayed after the pause's checkpoint
    # were delivered before they were replaced, and their replacements after)
    assert set(stored) <= set(metric_ids)
    losses = [u.step for u in seen if isinstance(u, runs.MetricUpdate) and u.name == "loss"]
    assert max(losses) == 16 and 1 in losses
    events = [u.cursor.event for u in seen if isinstance(u, runs.EventUpdate)]
    assert events == sorted(set(events)) and "paused" in [u.kind for u in seen if isinstance(u, runs.EventUpdate)]

    record = runs.get(run_id, store=store)
    assert record.status == "completed" and record.summary.steps == 16
    assert record.quality is not None and "total" in record.quality
    assert record.versions and record.versions[0].number >= 1


def test_reading_a_run_that_does_not_exist_is_a_plain_error() -> None:
    with pytest.raises(PlainError) as caught:
        runs.get("run-that-never-was")
    assert caught.value.code == "run_not_found"
    with pytest.raises(PlainError):
        runs.Cursor.parse("../../etc")


def test_follow_waits_for_new_rows_and_stops_at_the_end() -> None:
    from peftstudio.records import DataSettings, ModelChoice, RunConfig

    store = open_store()
    rid = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                     data=DataSettings(path="chat.jsonl"))).id
    got: list[runs.Update] = []
    thread = threading.Thread(target=lambda: got.extend(runs.follow(rid, store=store, poll_s=0.01, timeout_s=30)))
    thread.start()
    store.update_run(rid, status="running")
    for step in range(1, 4):
        store.add_metrics(rid, step, {"loss": 3.0 - step})
        time.sleep(0.02)
    store.add_event(rid, "checkpoint", "saved", step=3)
    store.update_run(rid, status="completed")
    thread.join(30)
    assert not thread.is_alive()
    assert [u.step for u in got if isinstance(u, runs.MetricUpdate)] == [1, 2, 3]
    assert [u.status for u in got if isinstance(u, runs.StatusUpdate)][-1] == "completed"
    assert sum(isinstance(u, runs.EventUpdate) for u in got) == 1
