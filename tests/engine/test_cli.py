"""`peftstudio train/pause/resume/runs`: argument handling and output, without training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftstudio.cli.main import main
from peftstudio.cli.runs import metrics_summary
from peftstudio.cli.train import progress_text
from peftstudio.errors import make
from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.records.convert import to_dict
from peftstudio.store import open_store


def _run(status: str = "completed") -> str:
    store = open_store()
    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="d.jsonl"))
    run = store.create_run(cfg, name="first")
    store.add_metrics(run.id, 1, {"loss": 2.0, "tokens_per_second": 100.0}, tokens_seen=50)
    store.add_metrics(run.id, 2, {"loss": 1.5, "val_loss": 1.7}, tokens_seen=100)
    store.add_event(run.id, "completed", "Finished after 2 steps.", step=2)
    store.update_run(run.id, status=status, summary={"steps": 2, "final_loss": 1.5})
    return run.id


@pytest.mark.parametrize(
    ("latest", "text"),
    [
        ({}, "starting…"),
        ({"loss": 2.0}, "loss 2.000"),
        ({"loss": 1.0, "val_loss": 1.25, "tokens_per_second": 10.4}, "loss 1.000 · val 1.250 · 10 tok/s"),
        ({"eta_seconds": 3900, "eta_low_seconds": 3600, "eta_high_seconds": 4200}, "ETA 1h 05m (1h 00m-1h 10m)"),
    ],
)
def test_progress_text(latest: dict[str, float], text: str) -> None:
    assert progress_text(latest) == text


def test_metrics_summary_keeps_last_and_extremes() -> None:
    rows = [{"name": "loss", "step": s, "value": v} for s, v in ((1, 3.0), (2, 1.0), (3, 2.0))]
    assert metrics_summary(rows) == {"loss": {"last": 2.0, "last_step": 3, "min": 1.0, "max": 3.0, "count": 3}}


def test_runs_list_and_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    rid = _run()
    assert main(["runs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["id"] == rid and listed[0]["status"] == "completed" and listed[0]["final_loss"] == 1.5
    assert main(["runs", "show", rid[:-2], "--json"]) == 0  # a unique beginning is enough
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["model"]["reference"] == "builtin:tiny-llama"
    assert doc["metrics"]["loss"]["last"] == 1.5 and doc["metrics"]["val_loss"]["count"] == 1
    assert doc["events"][-1]["kind"] == "completed"


def test_runs_show_text(capsys: pytest.CaptureFixture[str]) -> None:
    rid = _run()
    assert main(["runs", "show", rid]) == 0
    out = capsys.readouterr().out
    assert "completed" in out and "loss" in out and "Finished after 2 steps." in out


def test_unknown_run_is_a_plain_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "show", "run-nope"]) == 2
    err = capsys.readouterr().err
    assert "No such run" in err and "Traceback" not in err


def test_pause_of_a_finished_run_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    rid = _run()
    assert main(["pause", rid]) == 0
    assert "completed" in capsys.readouterr().out


def test_failed_run_reports_its_plain_error(capsys: pytest.CaptureFixture[str]) -> None:
    from peftstudio.cli.train import report

    rid = _run("failed")
    open_store().update_run(rid, error=to_dict(make("file_not_found", path="d.jsonl").info))
    assert report(open_store().get_run(rid)) == 2
    err = capsys.readouterr().err
    assert "d.jsonl" in err and "What you can do" in err


def test_train_needs_profile_model_and_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--model", "builtin:tiny-llama"]) == 2
    err = capsys.readouterr().err
    assert "--profile" in err and "--data" in err


def test_train_plans_like_plan_and_applies_overrides(tmp_path: Path) -> None:
    import argparse

    from peftstudio.cli.train import build_config
    from peftstudio.data import sample_path

    args = argparse.Namespace(config=None, profile="chatbot", model="builtin:tiny-llama",
                              data=str(sample_path("pirate_chat.jsonl")), max_steps=7,
                              overrides=["learning_rate=0.001", "packing=false"], devices=2, strategy="ddp",
                              name="n")
    cfg = build_config(args)
    t = cfg.training
    assert (t.max_steps, t.learning_rate, t.packing, t.devices, t.strategy) == (7, 0.001, False, 2, "ddp")
    assert Path(cfg.data.path).is_absolute() and cfg.name == "n"
