"""On the real SmolLM2-135M-Instruct: the demo's run against a deliberately over-aggressive one (the demo's
learning rate x5) on the same data. The aggressive run is flagged for forgetting, scores lower, and its first
suggestion names the learning rate; the demo's own run is not flagged; the checks cost under a fifth of the
training time.

The verdicts come from the checks run again on each tuned model with every general question asked (a
generous budget, as `check_run(..., budget=...)` lets a user re-check a run): inside the run the budget
follows the machine's speed, and how many of the 40 questions fit in it would decide the test instead of
the models (docs/quality.md, "The demo's settings")."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from peftstudio.quality import QualityScore
from peftstudio.records.convert import from_dict

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600), pytest.mark.skip(
    reason="open (issue 20): measured on every question, the demo's run (40 steps) forgot 3 of the base model's "
           "16 general answers and newly got 6 right, the x5 run forgot 5 and newly got 4: each one answer from "
           "the flag's threshold, while the same settings on a sample one row different moved a run from 4 to 7 "
           "forgotten; a pass would be chance (docs/quality.md, 'The demo's settings')")]

MODEL = "builtin:smollm2-135m"
FULL_BUDGET = 1200.0  # seconds: enough for every general question and held-out example on a slow machine


def demo_run(extra: list[str]) -> dict[str, Any]:
    """Train as `make demo` does (its plan and its settings), with `extra` settings on top; its in-run score,
    summary and config, and its score with every check question asked (``full``)."""
    from peftstudio.cli.demo_flow import SAMPLE, demo_overrides
    from peftstudio.data import check_file, sample_path, stats_of
    from peftstudio.engine.runs import start_run
    from peftstudio.hardware import probe_hardware
    from peftstudio.models import load_tokenizer
    from peftstudio.planner import plan
    from peftstudio.quality.run import check_run, warm_base_answers
    from peftstudio.quality.score import numbers_for_run, score
    from peftstudio.store import open_store

    data = str(sample_path(SAMPLE))
    warm_base_answers(MODEL)  # as the demo does before training: the checks' budget goes to the tuned model
    stats = stats_of(check_file(data, profile="chatbot", tokenizer=load_tokenizer(MODEL)))
    the_plan = plan(probe_hardware(), MODEL, "chatbot", stats, demo_overrides(False) + extra, data_path=data)
    config = the_plan.run_config(data, name="demo" + "".join(extra))
    store = open_store()
    run_id = start_run(config, store, detach=False)
    run = store.get_run(run_id)
    assert run.status == "completed", run.error
    full = score(attrs.evolve(numbers_for_run(store, run_id), checks=check_run(store, run_id, budget=FULL_BUDGET)))
    return {"quality": from_dict(QualityScore, run.summary["quality"]), "summary": run.summary, "config": config,
            "full": full}


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    from peftstudio.cli.demo_flow import DEMO_LEARNING_RATE

    return {"demo": demo_run([]), "aggressive": demo_run([f"learning_rate={DEMO_LEARNING_RATE * 5:g}"])}


def test_the_demos_run_is_not_flagged_and_its_checks_cost_under_a_fifth(runs: dict[str, Any]) -> None:
    quality, summary, full = runs["demo"]["quality"], runs["demo"]["summary"], runs["demo"]["full"]
    checks = quality.checks
    assert checks is not None and checks.task is not None and checks.retention is not None
    share = checks.seconds / summary["duration_seconds"]
    retention = full.checks.retention
    print(f"demo: in-run score {quality.total}, checks {checks.seconds:.1f} s of {summary['duration_seconds']:.1f} s "
          f"training ({share:.0%}); all questions: score {full.total}, forgot {retention.forgotten_count} of "
          f"{retention.base_right} (newly right {retention.learned}, {retention.asked} asked)")
    print(full.render())
    assert retention.asked == 40
    assert not quality.forgetting and not full.forgetting, full.render()
    assert retention.base_right >= 10  # the base model knows enough for forgetting to be measured
    assert share < 0.2


def test_an_over_aggressive_run_is_flagged_for_forgetting_and_told_to_lower_the_learning_rate(
        runs: dict[str, Any]) -> None:
    gentle = runs["demo"]["full"]
    aggressive, config = runs["aggressive"]["full"], runs["aggressive"]["config"]
    retention = aggressive.checks.retention
    print(f"aggressive (learning rate {config.training.learning_rate:g}): score {aggressive.total} against "
          f"{gentle.total}; forgot {retention.forgotten_count} of {retention.base_right} "
          f"(newly right {retention.learned})")
    print(aggressive.render())
    assert aggressive.forgetting, aggressive.render()
    assert aggressive.total < gentle.total
    assert "learning rate" in aggressive.suggestions[0].lower()
    assert f"a third of {config.training.learning_rate:g}" in aggressive.suggestions[0]
