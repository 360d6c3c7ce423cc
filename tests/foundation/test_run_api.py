"""The typed run API without a worker: records, cursors that resume exactly, the typed summary."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from peftstudio import runs
from peftstudio.errors import PlainError
from peftstudio.records import DataSettings, ModelChoice, RecordError, RunConfig, RunSummary, convert
from peftstudio.records.run import PauseReport, summary_from_stored
from peftstudio.store import Store


def _cfg() -> RunConfig:
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="c.jsonl"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "db.sqlite")


def write_run(store: Store, run_id: str, steps: int) -> None:
    """What a worker writes: running, a metric and now and then an event per step, then completed."""
    store.update_run(run_id, status="running", summary={"total_steps": steps})
    for step in range(1, steps + 1):
        store.add_metrics(run_id, step, {"loss": 3.0 - step / 10, "tokens_per_second": 100.0 + step})
        if step % 3 == 0:
            store.add_event(run_id, "checkpoint", f"Saved a checkpoint at step {step}.", step=step)
    store.update_run(run_id, status="completed", summary={"total_steps": steps, "steps": steps, "final_loss": 1.5})
    store.add_event(run_id, "completed", "Finished.")


def test_get_returns_a_typed_record(store: Store) -> None:
    run = store.create_run(_cfg())
    quality = {"total": 80, "parts": [], "suggestions": ["Add more examples."]}
    store.update_run(run.id, status="completed", summary={"steps": 4, "final_loss": 1.25, "quality": quality,
                                                          "note": "kept"},
                     error={"code": "cuda_oom", "title": "Out of memory", "explanation": "x"})
    got = runs.get(run.id[:-1], store=store)  # a unique beginning of the id is enough
    assert (got.id, got.status, got.config) == (run.id, "completed", _cfg())
    assert got.summary == RunSummary(steps=4, final_loss=1.25, extra={"note": "kept"})
    assert got.quality is not None and (got.quality.total, got.quality.suggestions) == (80, ("Add more examples.",))
    assert got.error is not None and got.error.code == "cuda_oom"
    assert got.versions == ()
    assert [r.id for r in runs.list_runs(store=store)] == [run.id]


def test_an_unknown_run_is_a_plain_error(store: Store) -> None:
    with pytest.raises(PlainError) as err:
        runs.get("run-nope", store=store)
    assert err.value.info.code == "run_not_found"
    with pytest.raises(PlainError):
        next(runs.follow("run-nope", store=store))


def test_follow_yields_every_update_once_in_order(store: Store) -> None:
    rid = store.create_run(_cfg()).id
    write_run(store, rid, 7)
    got = list(runs.follow(rid, store=store, poll=0.01))
    metrics = [(u.step, u.name) for u in got if isinstance(u, runs.MetricUpdate)]
    assert metrics == [(s, n) for s in range(1, 8) for n in ("loss", "tokens_per_second")]
    assert [u.kind for u in got if isinstance(u, runs.EventUpdate)] == ["checkpoint", "checkpoint", "completed"]
    assert isinstance(got[-1], runs.EventUpdate)  # the last event came after the final status
    statuses = [u for u in got if isinstance(u, runs.StatusUpdate)]
    assert statuses[-1].status == "completed" and statuses[-1].summary.final_loss == 1.5
    assert [u.time for u in got] == sorted(u.time for u in got)


def test_resuming_from_any_cursor_gives_the_rest_exactly_once(store: Store) -> None:
    rid = store.create_run(_cfg()).id
    write_run(store, rid, 5)
    everything = list(runs.follow(rid, store=store, poll=0.01))
    for i, update in enumerate(everything):
        assert list(runs.follow(rid, since=update.cursor, store=store, poll=0.01)) == everything[i + 1:]


def test_follow_sees_updates_written_while_it_waits(store: Store) -> None:
    rid = store.create_run(_cfg()).id
    writer = threading.Thread(target=lambda: (time.sleep(0.2), write_run(store, rid, 6)))
    writer.start()
    got = list(runs.follow(rid, store=store, poll=0.02, timeout=30))
    writer.join()
    assert [u.step for u in got if isinstance(u, runs.MetricUpdate) and u.name == "loss"] == list(range(1, 7))
    assert [u.status for u in got if isinstance(u, runs.StatusUpdate)][-1] == "completed"


def test_a_paused_run_is_followed_until_it_finishes_unless_asked_to_stop(store: Store) -> None:
    rid = store.create_run(_cfg()).id
    store.add_metrics(rid, 1, {"loss": 2.0})
    store.update_run(rid, status="paused")
    assert [type(u) for u in runs.follow(rid, store=store, stop_on_pause=True)] == [runs.MetricUpdate,
                                                                                    runs.StatusUpdate]
    got = list(runs.follow(rid, store=store, poll=0.01, timeout=0.2))  # waits for a resume that never comes
    assert len(got) == 2


def test_a_bad_cursor_is_a_plain_error(store: Store) -> None:
    rid = store.create_run(_cfg()).id
    for bad in ("42", "m1.e2", "x1.e2.u3", "m1.e2.uabc"):
        with pytest.raises(PlainError) as err:
            runs.updates(rid, bad, store=store)
        assert "cursor" in err.value.info.explanation


def test_run_summary_round_trips_through_the_converter_with_schema_version() -> None:
    pause = PauseReport(step=8, reason="user", elapsed_seconds=95.0, remaining_seconds=40.0, checkpoint="c/step-8")
    summary = RunSummary(total_steps=12, steps_per_epoch=6, step=8, pause=pause, extra={"cost": 0.02})
    doc = convert.to_document(summary)
    assert doc["schema_version"] == convert.SCHEMA_VERSION and doc["kind"] == "run_summary"
    assert convert.loads(RunSummary, convert.dumps(summary)) == summary
    assert convert.from_document(RunSummary, {"schema_version": 1, "steps": 3}) == RunSummary(steps=3)
    with pytest.raises(RecordError, match="newer PEFT Studio"):
        convert.from_document(RunSummary, {"schema_version": convert.SCHEMA_VERSION + 1, "steps": 3})
    with pytest.raises(RecordError, match="steps"):
        convert.from_dict(RunSummary, {"steps": "many"})
    with pytest.raises(AttributeError):
        summary.steps = 3  # type: ignore[misc]


def test_stored_summaries_become_typed_and_keep_what_they_do_not_know() -> None:
    stored = {"total_steps": 100, "pause": {"step": 8, "reason": "user", "elapsed_seconds": 95.0}, "step": 8,
              "quality": {"total": 1, "parts": [], "suggestions": []}, "quality_score": 0.9}
    summary = summary_from_stored(stored)
    assert summary.pause == PauseReport(step=8, reason="user", elapsed_seconds=95.0)
    assert (summary.total_steps, summary.step, summary.extra) == (100, 8, {"quality_score": 0.9})
    assert summary_from_stored({}) == RunSummary()
