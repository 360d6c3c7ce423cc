"""On the real SmolLM2-135M-Instruct: the demo's run against a deliberately over-aggressive one (the demo's
learning rate x5) on the same data. The aggressive run is flagged for forgetting, scores lower, and its first
suggestion names the learning rate; the demo's own run is not flagged; the checks ask every general question
and every held-out example they take.

The verdicts are the runs' own, as a user sees them: the flag rests on the drift (the tuned model's beliefs
among each general question's choices against the base model's), measured on all 40 questions, next to the
greedy answers to the same 40."""

from __future__ import annotations

from typing import Any

import pytest

from peftstudio.quality import QualityScore
from peftstudio.quality.retention import DRIFT_LIMIT
from peftstudio.quality.run import held_out
from peftstudio.records.convert import from_dict
from tests.conftest import DemoRun

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

MODEL = "builtin:smollm2-135m"


def demo_run(extra: list[str]) -> dict[str, Any]:
    """Train as `make demo` does (its plan and its settings), with `extra` settings on top; its in-run score,
    summary and config."""
    from peftstudio.cli.demo_flow import SAMPLE, demo_overrides
    from peftstudio.data import check_file, sample_path, stats_of
    from peftstudio.engine.runs import start_run
    from peftstudio.hardware import probe_hardware
    from peftstudio.models import load_tokenizer
    from peftstudio.planner import plan
    from peftstudio.quality.run import warm_base_answers
    from peftstudio.store import open_store

    data = str(sample_path(SAMPLE))
    warm_base_answers(MODEL)  # as the demo does before training: after it, only the tuned model answers
    stats = stats_of(check_file(data, profile="chatbot", tokenizer=load_tokenizer(MODEL)))
    the_plan = plan(probe_hardware(), MODEL, "chatbot", stats, demo_overrides(False) + extra, data_path=data)
    config = the_plan.run_config(data, name="demo" + "".join(extra))
    store = open_store()
    run_id = start_run(config, store, detach=False)
    run = store.get_run(run_id)
    assert run.status == "completed", run.error
    return {"quality": from_dict(QualityScore, run.summary["quality"]), "summary": run.summary, "config": config}


@pytest.fixture(scope="module")
def runs(smollm2_demo: DemoRun) -> dict[str, dict[str, Any]]:
    """The demo's own run (`make demo`'s, shared with the demo test) and the aggressive one trained here."""
    from peftstudio.cli.demo_flow import DEMO_LEARNING_RATE

    demo = smollm2_demo.run()
    assert demo.status == "completed", demo.error
    return {"demo": {"quality": from_dict(QualityScore, demo.summary["quality"]), "summary": demo.summary,
                     "config": demo.config},
            "aggressive": demo_run([f"learning_rate={DEMO_LEARNING_RATE * 5:g}"])}


def test_the_demos_run_is_not_flagged_and_its_checks_ask_the_whole_set(runs: dict[str, Any]) -> None:
    quality, summary = runs["demo"]["quality"], runs["demo"]["summary"]
    checks = quality.checks
    assert checks is not None and checks.task is not None and checks.retention is not None
    share = checks.seconds / summary["duration_seconds"]
    retention = checks.retention
    print(f"demo: score {quality.total}, drift {retention.drift} on {retention.drift_asked}, checks "
          f"{checks.seconds:.1f} s of {summary['duration_seconds']:.1f} s training ({share:.0%}); forgot "
          f"{retention.forgotten_count} of {retention.base_right} (newly right {retention.learned}, "
          f"{retention.asked} asked)")
    print(quality.render())
    assert retention.drift_asked == 40 and retention.drift is not None
    assert not quality.forgetting, quality.render()
    assert retention.drift < DRIFT_LIMIT / 1.3  # not near the limit: a margin against another machine's rounding
    assert retention.asked == 40 and checks.task.examples == len(held_out(runs["demo"]["config"])[0]) and not checks.notes


def test_an_over_aggressive_run_is_flagged_for_forgetting_and_told_to_lower_the_learning_rate(
        runs: dict[str, Any]) -> None:
    gentle = runs["demo"]["quality"]
    aggressive, config = runs["aggressive"]["quality"], runs["aggressive"]["config"]
    retention = aggressive.checks.retention
    print(f"aggressive (learning rate {config.training.learning_rate:g}): score {aggressive.total} against "
          f"{gentle.total}; drift {retention.drift}; forgot {retention.forgotten_count} of {retention.base_right} "
          f"(newly right {retention.learned})")
    print(aggressive.render())
    assert aggressive.forgetting, aggressive.render()
    assert retention.drift > DRIFT_LIMIT * 1.3  # well past the limit
    assert aggressive.total < gentle.total
    assert "learning rate" in aggressive.suggestions[0].lower()
    assert f"a third of {config.training.learning_rate:g}" in aggressive.suggestions[0]
