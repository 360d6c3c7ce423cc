"""The checks after training on `builtin:tiny-llama`: held-out examples, the same set every time, turning them
off."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from peftstudio.engine.runs import start_run
from peftstudio.quality import QualityScore
from peftstudio.quality import run as quality_run
from peftstudio.quality.retention import questions
from peftstudio.quality.run import held_out, run_checks
from peftstudio.records.convert import from_dict
from peftstudio.store import open_store
from tests.guards.helpers import config


def test_a_finished_run_is_checked_and_the_parts_are_stored() -> None:
    store = open_store()
    run_id = start_run(config(max_steps=4), store, detach=False)
    run = store.get_run(run_id)
    assert run.status == "completed", run.error
    assert len(store.events(run_id, kind="checking")) == 1
    quality = from_dict(QualityScore, run.summary["quality"])
    checks = quality.checks
    assert checks is not None and checks.seconds > 0 and not checks.notes
    assert checks.task is not None and checks.task.metric == "reference similarity"
    assert checks.task.examples == len(held_out(config())[0]) >= 1
    assert checks.retention is not None and checks.retention.asked == len(questions())
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


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int]]:
    """Each batch `answer` is asked, as (the tuned model?, how many prompts)."""
    batches: list[tuple[bool, int]] = []
    real = quality_run.answer

    def counted(s: object, conversations: list, *, use_adapter: bool, max_new_tokens: int) -> list[str]:
        batches.append((use_adapter, len(conversations)))
        return real(s, conversations, use_adapter=use_adapter, max_new_tokens=max_new_tokens)

    monkeypatch.setattr(quality_run, "answer", counted)
    return batches


def test_the_same_run_is_checked_the_same_whether_the_base_answers_are_cached_or_not(
        asked: list[tuple[bool, int]]) -> None:
    """The set asked depends only on the run: cold (the base model answers too), then warm (its answers are read
    from the cache, so only the tuned model answers); the time either took plays no part."""
    store = open_store()
    run_id = start_run(config(max_steps=2, quality_checks=False), store, detach=False)
    cold = quality_run.check_run(store, run_id)
    cold_batches, asked[:] = list(asked), []
    warm = quality_run.check_run(store, run_id)
    n_task = len(held_out(config())[0])
    assert sorted(cold_batches) == sorted([(False, 40), (True, 40), (False, n_task), (True, n_task)])
    assert sorted(asked) == sorted([(True, 40), (True, n_task)])  # each check in one batch, the base's cached
    assert cold.retention is not None and cold.retention.asked == len(questions()) and not cold.notes
    assert cold.task is not None and cold.task.examples == n_task == min(quality_run.TASK_EXAMPLES, n_task)
    assert attrs.evolve(cold, seconds=0.0) == attrs.evolve(warm, seconds=0.0)


def test_more_prompts_than_a_batch_holds_are_asked_in_batches(monkeypatch: pytest.MonkeyPatch,
                                                              asked: list[tuple[bool, int]]) -> None:
    from peftstudio.playground import PlaygroundSession

    session = PlaygroundSession("builtin:tiny-llama", save_history=False)
    monkeypatch.setattr(quality_run, "MAX_BATCH", 16)
    report = run_checks(session, config(quality_checks=True))
    assert report.retention is not None and report.retention.asked == 40
    assert [n for tuned, n in asked if tuned][:3] == [16, 16, 8] and max(n for _, n in asked) == 16


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


def test_the_plan_estimates_the_checks_that_run() -> None:
    """The planner sits below the checks and cannot import them: its figures for them are checked here."""
    from peftstudio.hardware import simulated_hardware
    from peftstudio.planner import plan, summary_lines
    from peftstudio.planner.estimates import CHECK_DECODE_STEPS

    assert CHECK_DECODE_STEPS == 2 * (quality_run.RETENTION_TOKENS + quality_run.TASK_TOKENS[1])
    line = next(x for x in summary_lines(plan(simulated_hardware(cpu_cores=2), "builtin:tiny-llama", "chatbot"))
                if x.startswith("Checks after training"))
    assert f"{len(questions())} general questions and up to {quality_run.TASK_EXAMPLES} held-out examples" in line
