"""Where the score's parts are shown: `peftstudio runs show` (text and --json), the comparison table and the
version timeline's figures (what the studio's compare and versions screens show), and the demo's quality
step."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from peftstudio.cli.main import main
from peftstudio.history import lower_is_better, runs_table
from peftstudio.history.compare import quality_figures
from peftstudio.quality import ChecksReport, QualityScore, RetentionCheck, RunNumbers, TaskCheck, score
from peftstudio.quality.report import ExampleChange, Forgotten
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.records.convert import to_dict
from peftstudio.store import open_store

CAT = Forgotten("How many legs does a cat have?", ("4", "four"), "Four.", "Arr! Five legs, me hearty!")


def flagged_score() -> QualityScore:
    checks = ChecksReport(
        task=TaskCheck("reference similarity", 8, base=0.1, tuned=0.3,
                       changed=(ExampleChange("What is the capital of Italy?", "Arr! Rome.", "Rome.", "Arr! Rome!",
                                              0.2, 0.9),)),
        retention=RetentionCheck(asked=40, base_right=10, tuned_right=6, forgotten=(CAT,) * 4, drift=1.3,
                                 drift_asked=40),
        seconds=12.0, budget_seconds=30.0)
    n = RunNumbers(train_losses=tuple(2.5 - 0.01 * i for i in range(40)), val_losses=(2.0, 1.8), base_val_loss=2.4,
                   final_val_loss=1.8, steps=40, steps_per_epoch=20, train_examples=300, learning_rate=1e-2,
                   checks=checks)
    q = score(n)
    assert q.forgetting
    return q


def stored_run(quality: QualityScore | None, name: str = "run") -> str:
    store = open_store()
    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="x.jsonl"),
                    training=TrainingSettings(max_steps=3), name=name)
    run = store.create_run(cfg, name=name)
    store.add_metrics(run.id, 1, {"loss": 2.0}, tokens_seen=100)
    summary: dict[str, Any] = {"duration_seconds": 60.0, "steps": 3}
    if quality is not None:
        summary["quality"] = to_dict(quality)
    store.update_run(run.id, status="completed", summary=summary, finished_at=1_000_000.0)
    return run.id


def test_runs_show_prints_the_parts_and_json_carries_them(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = stored_run(flagged_score())
    assert main(["runs", "show", run_id]) == 0
    out = capsys.readouterr().out
    assert "Quality score: 60/100  (flagged: the model forgot what it knew)" in out
    assert "Task" in out and "reference similarity on 8 held-out examples: base 0.10 -> tuned 0.30" in out
    assert "Retention" in out and "forgot 4 of the 10 general questions" in out
    assert "Forgotten (4)" in out and "Lower the learning rate to 0.0033" in out
    assert main(["runs", "show", run_id, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    quality = doc["summary"]["quality"]
    assert {p["name"] for p in quality["parts"]} >= {"task", "retention", "stability"}
    assert quality["flags"] == ["forgetting"] and len(quality["checks"]["retention"]["forgotten"]) == 4


def test_the_comparison_table_carries_task_and_retention() -> None:
    flagged = stored_run(flagged_score(), "aggressive")
    gentle_score = attrs.evolve(flagged_score(), flags=(), total=80)
    stored_run(gentle_score, "gentle")
    stored_run(None, "old")
    rows = {r.name: r for r in runs_table(store=open_store())}
    assert rows["aggressive"].forgotten_answers == 4 and rows["aggressive"].forgetting
    assert rows["aggressive"].task_score == pytest.approx(30.0)
    assert rows["gentle"].task_score == pytest.approx(30.0) and not rows["gentle"].forgetting
    assert rows["old"].task_score is None and rows["old"].forgotten_answers is None
    assert rows["aggressive"].run_id == flagged


def test_the_version_timeline_s_figures_carry_the_parts_with_their_direction() -> None:
    figures = quality_figures({"quality": to_dict(flagged_score())})
    assert figures["quality_score"] == 60 and figures["forgotten_answers"] == 4
    assert figures["task_score"] == pytest.approx(30.0)
    assert lower_is_better("forgotten_answers") is True and lower_is_better("task_score") is False


def test_the_demo_prints_the_task_and_retention_parts(capsys: pytest.CaptureFixture[str]) -> None:
    from peftstudio.cli import demo_flow

    demo_flow._show_quality(to_dict(flagged_score()))
    out = capsys.readouterr().out
    assert "Task" in out and "Retention" in out and "Forgotten (4)" in out

