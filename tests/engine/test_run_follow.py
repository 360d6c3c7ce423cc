"""`peftstudio.runs.follow` on a real builtin:tiny-llama run in a worker, paused and resumed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from peftstudio import runs
from peftstudio.engine.runs import pause_run, resume_run, start_run
from peftstudio.store import Store
from tests.engine.test_runs import config

pytestmark = pytest.mark.slow


def losses(updates: list[runs.Update]) -> list[tuple[int, float]]:
    return [(u.step, u.value) for u in updates if isinstance(u, runs.MetricUpdate) and u.name == "loss"]


def test_follow_delivers_every_metric_once_in_order_across_pause_and_resume(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    rid = start_run(config(), store)
    whole: list[runs.Update] = []  # one follower from start to end, through the pause
    follower = threading.Thread(target=lambda: whole.extend(runs.follow(rid, poll=0.05, timeout=600, store=store)))
    follower.start()

    before: list[runs.Update] = []  # a second one that stops at the pause and picks up from its cursor
    for update in runs.follow(rid, poll=0.05, stop_on_pause=True, store=store):
        before.append(update)
        if isinstance(update, runs.MetricUpdate) and update.name == "loss" and update.step == 3:
            pause_run(rid, store)
    assert runs.get(rid, store=store).status == "paused"
    paused_at = max(step for step, _ in losses(before))
    assert 3 <= paused_at < 12

    resume_run(rid, store)
    after = list(runs.follow(rid, since=before[-1].cursor, poll=0.05, store=store))
    follower.join(timeout=600)
    assert not follower.is_alive()

    stored = [(m["step"], m["value"]) for m in store.metrics(rid, "loss")]
    assert [step for step, _ in stored] == list(range(1, 13))
    assert losses(whole) == stored  # every metric once, in order, across the pause
    assert losses(before) + losses(after) == stored  # and from a cursor kept over the pause
    everything = [u for u in whole if isinstance(u, runs.MetricUpdate)]
    assert [(u.step, u.name) for u in before + after if isinstance(u, runs.MetricUpdate)] == \
        [(u.step, u.name) for u in everything]
    kinds = [u.kind for u in whole if isinstance(u, runs.EventUpdate)]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("completed")
    assert [u.status for u in before if isinstance(u, runs.StatusUpdate)][-1] == "paused"
    assert [u.status for u in whole if isinstance(u, runs.StatusUpdate)][-1] == "completed"

    run = runs.get(rid, store=store)
    assert run.summary.steps == 12 and run.summary.total_steps == 12 and run.summary.pause is None
    assert run.quality is not None and len(run.versions) == 1 and run.versions[0].run_id == rid
