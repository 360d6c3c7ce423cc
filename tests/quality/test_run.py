"""The checks after training on `builtin:tiny-llama`: held-out examples, the time budget, turning them off."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from peftstudio.engine.runs import start_run
from peftstudio.quality import QualityScore
from peftstudio.quality import run as quality_run
from peftstudio.quality.retention import questions
from peftstudio.quality.run import BATCH, BUDGET_SHARE, MAX_BATCH, held_out, run_checks
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


@pytest.mark.parametrize("warm", [False, True])
def test_the_budget_stops_the_checks_after_the_first_batches(warm: bool) -> None:
    from peftstudio.playground import PlaygroundSession

    if warm:  # the base model's answers to the general questions are cached: a first batch of 16, else 8
        quality_run.warm_base_answers("builtin:tiny-llama")
    first = BATCH if warm else BATCH // 2
    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    ticks = itertools.count(step=10.0)  # every look at the clock: 10 s later
    report = run_checks(session, config(), budget=25.0, clock=lambda: next(ticks))
    assert report.retention is not None and report.retention.asked == first < len(questions())
    assert report.task is not None and report.task.examples <= BATCH // 2
    assert f"time budget of 25 s allowed {first} of 40 general questions" in report.notes[0]


class PacedAnswers:
    """`answer` as it is, on a clock that moves only while answering: `fixed` seconds a batch plus `each` a
    prompt (answering reads the weights once per token, whatever the number of prompts)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fixed: float, each: float) -> None:
        self.now, self.fixed, self.each, self.batches = 0.0, fixed, each, []
        real = quality_run.answer

        def paced(session: object, conversations: list, *, use_adapter: bool, max_new_tokens: int) -> list[str]:
            self.now += fixed + each * len(conversations)
            self.batches.append((use_adapter, len(conversations)))
            return real(session, conversations, use_adapter=use_adapter, max_new_tokens=max_new_tokens)

        monkeypatch.setattr(quality_run, "answer", paced)

    def clock(self) -> float:
        return self.now


def test_after_the_first_batch_the_checks_ask_as_many_as_their_time_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    from peftstudio.playground import PlaygroundSession

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    monkeypatch.setattr(quality_run, "base_answers",  # the base model's answers are cached: only the tuned ones
                        lambda s, c, *, max_new_tokens: quality_run.answer(s, c, use_adapter=False,
                                                                            max_new_tokens=max_new_tokens))
    pace = PacedAnswers(monkeypatch, fixed=1.0, each=0.1)
    report = run_checks(session, config(), budget=30.0, clock=pace.clock, started=0.0)
    tuned = [n for adapter, n in pace.batches if adapter]
    first = BATCH // 2  # the base model's answers are not cached
    assert tuned[:2] == [first, first] and max(tuned) > first  # retention, task, then larger batches
    assert report.retention is not None and report.retention.asked == len(questions())
    assert report.task is not None and report.seconds <= 30.0 and not report.notes
    assert len(tuned) < 2 + len(questions()) // first  # fewer batches than a check of first batches only


@pytest.mark.parametrize("spare", [5.0, 15.0, 25.0, 40.0])
def test_no_batch_is_started_that_the_time_left_cannot_hold(monkeypatch: pytest.MonkeyPatch, spare: float) -> None:
    from peftstudio.playground import PlaygroundSession

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    monkeypatch.setattr(quality_run, "base_answers",
                        lambda s, c, *, max_new_tokens: quality_run.answer(s, c, use_adapter=False,
                                                                            max_new_tokens=max_new_tokens))
    pace = PacedAnswers(monkeypatch, fixed=0.0, each=0.5)  # no gain from larger batches: a prompt costs 1 s
    first = BATCH // 2 + min(BATCH // 2, len(held_out(config())[0]))  # the first batches always run (cold)
    report = run_checks(session, config(), budget=first + spare, clock=pace.clock, started=0.0)
    assert report.seconds <= first + spare and all(n <= MAX_BATCH for _, n in pace.batches)
    assert report.retention is not None and report.retention.asked >= BATCH // 2
    assert bool(report.notes) == (report.retention.asked < len(questions()))


@pytest.mark.parametrize(("left", "last", "seconds", "room", "want"), [
    (40, 0, 0.0, -5.0, BATCH),  # the first batch always runs
    (3, 0, 0.0, 0.0, 3),
    (32, 8, 2.0, 5.0, 16),  # 8 * 5 / (1.25 * 2)
    (32, 8, 2.0, 2.6, 8),  # a batch of 8 fits; fewer prompts would cost as much
    (4, 8, 2.0, 3.0, 4),
    (100, 8, 0.1, 1000.0, MAX_BATCH),
    (32, 8, 2.0, 2.0, 0),  # not even the last batch's time is left
])
def test_batch_size(left: int, last: int, seconds: float, room: float, want: int) -> None:
    assert quality_run.batch_size(left, last=last, seconds=seconds, room=room) == want


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
