"""The checks after training on `builtin:tiny-llama`: held-out examples, the time budget, turning them off."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from peftstudio.engine.runs import start_run
from peftstudio.quality import QualityScore
from peftstudio.quality.retention import questions
from peftstudio.quality.run import BATCH, BUDGET_SHARE, held_out, run_checks
from peftstudio.records.convert import from_dict
from peftstudio.store import open_store
from tests.guards.helpers import config


def test_a_finished_run_is_checked_within_its_budget_and_the_parts_are_stored() -> None:
    store = open_store()
    run_id = start_run(config(max_steps=4), store, detach=False)
    run = store.get_run(run_id)
    assert run.status == "completed", run.error
    [checking] = store.events(run_id, kind="checking")
    budget = checking["data"]["budget_seconds"]
    assert budget == pytest.approx(BUDGET_SHARE * run.summary["duration_seconds"], abs=0.1)
    quality = from_dict(QualityScore, run.summary["quality"])
    checks = quality.checks
    assert checks is not None and checks.budget_seconds == budget
    assert checks.task is not None and checks.task.metric == "reference similarity" and checks.task.examples >= 1
    assert checks.retention is not None and checks.retention.asked >= 1
    assert "task" in [p.name for p in quality.parts]  # tiny-llama knows no general answer: retention not scored
    [event] = store.events(run_id, kind="quality")
    assert event["data"]["parts"]["task"] == pytest.approx(next(p.points for p in quality.parts if p.name == "task"),
                                                           abs=0.05)


def test_the_checks_can_be_turned_off() -> None:
    store = open_store()
    run_id = start_run(config(max_steps=2, quality_checks=False), store, detach=False)
    run = store.get_run(run_id)
    quality = from_dict(QualityScore, run.summary["quality"])
    assert quality.checks is None and not {"task", "retention"} & {p.name for p in quality.parts}
    assert not store.events(run_id, kind="checking")


def test_the_budget_stops_the_checks_after_the_first_batches() -> None:
    from peftstudio.playground import PlaygroundSession

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    ticks = itertools.count(step=10.0)  # every look at the clock: 10 s later
    report = run_checks(session, config(), budget=25.0, clock=lambda: next(ticks))
    assert report.retention is not None and report.retention.asked == BATCH < len(questions())
    assert report.task is not None and report.task.examples <= BATCH
    assert "time budget of 25 s allowed 8 of 40 general questions" in report.notes[0]


def test_held_out_examples_carry_the_label_set(tmp_path: Path) -> None:
    data = tmp_path / "reviews.csv"
    rows = [f"review number {i} was {'good' if i % 2 else 'bad'},{'positive' if i % 2 else 'negative'}"
            for i in range(40)]
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cfg = config(data, validation_fraction=0.25)
    conversations, references, labels = held_out(cfg)
    assert labels == ["negative", "positive"]
    assert 1 <= len(conversations) == len(references) <= 10
    assert all(c[-1]["role"] == "user" and c[-1]["content"].startswith("review number") for c in conversations)
    assert set(references) <= set(labels)
