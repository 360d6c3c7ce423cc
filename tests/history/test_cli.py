from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from peftstudio.cli.main import main
from peftstudio.cli.runs_history import add_compare_and_clone
from peftstudio.history.presets import get_preset, list_presets
from peftstudio.history.versions import list_versions, record_completed_run
from peftstudio.records import RunConfig, convert
from peftstudio.store import open_store
from tests.history.helpers import adapter_folder, completed_run, config


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _runs_cli(argv: list[str]) -> int:
    """The `runs` group as the engine's CLI module builds it, with our actions hooked in."""
    parser = argparse.ArgumentParser(prog="peftstudio")
    runs = parser.add_subparsers(dest="command").add_parser("runs")
    add_compare_and_clone(runs.add_subparsers(dest="runs_command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_presets_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg_file = tmp_path / "run.json"
    convert.save(config(learning_rate=1e-3), cfg_file)
    out = json.loads(_run(capsys, "presets", "save", "bot", "--config", str(cfg_file), "--tag", "support",
                          "--notes", "polite", "--json"))
    assert out["name"] == "bot" and out["config"]["training"]["learning_rate"] == 1e-3
    assert "bot" in _run(capsys, "presets", "list")
    listed = json.loads(_run(capsys, "presets", "list", "--tag", "support", "--json"))
    assert [p["name"] for p in listed] == ["bot"]
    assert json.loads(_run(capsys, "presets", "list", "--search", "nothing", "--json")) == []
    shown = json.loads(_run(capsys, "presets", "show", "bot", "--json"))
    assert shown["schema_version"] == 2 and shown["tags"] == ["support"]
    exported = tmp_path / "bot.json"
    assert json.loads(_run(capsys, "presets", "export", "bot", str(exported), "--json"))["path"] == str(exported)
    assert main(["presets", "export", "bot", str(exported)]) == 2  # no silent overwrite
    capsys.readouterr()
    before = get_preset("bot")
    _run(capsys, "presets", "delete", "bot")
    assert list_presets() == []
    imported = json.loads(_run(capsys, "presets", "import", str(exported), "--no-adjust", "--json"))
    assert imported["adjustments"] == [] and get_preset("bot") == before
    assert main(["presets", "import", str(exported), "--no-adjust"]) == 2  # already there
    assert "already exists" in capsys.readouterr().err
    _run(capsys, "presets", "import", str(exported), "--replace", "--cpu")


def test_presets_save_from_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    rid = completed_run(open_store(), config(seed=3), [1.0])
    _run(capsys, "presets", "save", "from run", "--run", rid)
    assert get_preset("from run").config == config(seed=3)


def test_versions_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = open_store()
    v1 = record_completed_run(s, completed_run(s, config(), [2.0, 1.5]), adapter_folder(tmp_path, 1))
    v2 = record_completed_run(s, completed_run(s, config(seed=1), [1.8, 1.2]), adapter_folder(tmp_path, 2))
    text = _run(capsys, "versions", "list")
    assert "v1" in text and "v2" in text and "*active*" in text and "(-0.3000)" in text
    listed = json.loads(_run(capsys, "versions", "list", "--json"))
    assert [v["label"] for v in listed] == ["v1", "v2"] and listed[1]["deltas"]["val_loss"] == pytest.approx(-0.3)
    assert json.loads(_run(capsys, "versions", "show", "v1", "--json"))["config"]["training"]["seed"] == 42
    assert json.loads(_run(capsys, "versions", "activate", "v1", "--json"))["active"] is True
    archived = json.loads(_run(capsys, "versions", "archive", v2.id, "--json"))
    assert archived["state"] == "archived" and archived["size_bytes"] > 0
    assert json.loads(_run(capsys, "versions", "restore", v2.id, "--json"))["state"] == "ready"
    cmp = json.loads(_run(capsys, "versions", "compare", "v1", "v2", "--json"))
    assert [d["path"] for d in cmp["differences"]] == ["training.seed"]
    assert "training.seed: 42 -> 1" in _run(capsys, "versions", "compare", "v1", "v2")
    assert json.loads(_run(capsys, "versions", "delete", v1.id, "--json"))["freed_bytes"] > 0
    assert [v.label for v in list_versions()] == ["v2"]
    assert main(["versions", "show", "v1"]) == 2
    assert "No such model version" in capsys.readouterr().err


def test_runs_compare_table_and_clone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = open_store()
    a = completed_run(s, config(), [2.0, 1.4])
    b = completed_run(s, config(learning_rate=1e-3), [1.9, 1.1])
    assert _runs_cli(["runs", "compare", a, b, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["best"]["best_val_loss"] == b
    assert [d["path"] for d in out["differences"]] == ["training.learning_rate"]
    assert _runs_cli(["runs", "compare", a, b]) == 0
    assert "training.learning_rate" in capsys.readouterr().out
    assert _runs_cli(["runs", "table", "--sort", "best_val_loss", "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [b, a]
    target = tmp_path / "again.json"
    assert _runs_cli(["runs", "clone", b, "--out", str(target)]) == 0
    assert convert.load(RunConfig, target) == config(learning_rate=1e-3)
