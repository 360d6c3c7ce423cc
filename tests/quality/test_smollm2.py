"""On the real SmolLM2-135M-Instruct: the demo's run against a deliberately over-aggressive one (the demo's
learning rate x5) on the same data. The aggressive run is flagged for forgetting, scores lower, and its first
suggestion names the learning rate; the demo's own run is not flagged; the checks cost under a fifth of the
training time."""

from __future__ import annotations

from typing import Any

import pytest

from peftstudio.quality import QualityScore
from peftstudio.records.convert import from_dict

pytestmark = [pytest.mark.slow, pytest.mark.skip(
    reason="open (issue 20): the demo's own run forgets at every learning rate tried (0.0005-0.002: 4-8 answers "
           "lost on balance) while 5x loses 2: its pirate data teaches a persona on capitals only; next, general "
           "examples in the sample (docs/quality.md, the demo's settings)")]

MODEL = "builtin:smollm2-135m"


def demo_run(extra: list[str]) -> tuple[QualityScore, dict[str, Any], Any]:
    """Train as `make demo` does (its plan and its settings), with `extra` settings on top."""
    from peftstudio.cli.demo_flow import SAMPLE, demo_overrides
    from peftstudio.data import check_file, sample_path, stats_of
    from peftstudio.engine.runs import start_run
    from peftstudio.hardware import probe_hardware
    from peftstudio.models import load_tokenizer
    from peftstudio.planner import plan
    from peftstudio.store import open_store

    data = str(sample_path(SAMPLE))
    stats = stats_of(check_file(data, profile="chatbot", tokenizer=load_tokenizer(MODEL)))
    the_plan = plan(probe_hardware(), MODEL, "chatbot", stats, demo_overrides(False) + extra, data_path=data)
    config = the_plan.run_config(data, name="demo" + "".join(extra))
    store = open_store()
    run_id = start_run(config, store, detach=False)
    run = store.get_run(run_id)
    assert run.status == "completed", run.error
    return from_dict(QualityScore, run.summary["quality"]), run.summary, config


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[QualityScore, dict[str, Any], Any]]:
    from peftstudio.cli.demo_flow import DEMO_LEARNING_RATE

    return {"demo": demo_run([]), "aggressive": demo_run([f"learning_rate={DEMO_LEARNING_RATE * 5:g}"])}


def test_the_demos_run_is_not_flagged_and_its_checks_cost_under_a_fifth(runs: dict[str, Any]) -> None:
    quality, summary, _ = runs["demo"]
    checks = quality.checks
    assert checks is not None and checks.task is not None and checks.retention is not None
    share = checks.seconds / summary["duration_seconds"]
    print(f"demo: score {quality.total}, checks {checks.seconds:.1f} s of {summary['duration_seconds']:.1f} s "
          f"training ({share:.0%}); retention {checks.retention.tuned_right}/{checks.retention.base_right} kept of "
          f"{checks.retention.asked} asked, forgot {checks.retention.forgotten_count}; task {checks.task.metric} "
          f"{checks.task.base:.2f} -> {checks.task.tuned:.2f}")
    print(quality.render())
    assert not quality.forgetting, quality.render()
    assert checks.retention.base_right >= 5  # the base model knows enough for forgetting to be measured
    assert share < 0.2


def test_an_over_aggressive_run_is_flagged_for_forgetting_and_told_to_lower_the_learning_rate(
        runs: dict[str, Any]) -> None:
    gentle, _, _ = runs["demo"]
    aggressive, summary, config = runs["aggressive"]
    checks = aggressive.checks
    assert checks is not None and checks.retention is not None
    print(f"aggressive (learning rate {config.training.learning_rate:g}): score {aggressive.total} against "
          f"{gentle.total}; forgot {checks.retention.forgotten_count} of {checks.retention.base_right}; checks "
          f"{checks.seconds:.1f} s of {summary['duration_seconds']:.1f} s")
    print(aggressive.render())
    assert aggressive.forgetting, aggressive.render()
    assert aggressive.total < gentle.total
    assert "learning rate" in aggressive.suggestions[0].lower()
    assert f"a third of {config.training.learning_rate:g}" in aggressive.suggestions[0]
