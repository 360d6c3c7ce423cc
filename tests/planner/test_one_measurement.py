"""One data measurement for planning: the CLI, the library and the app plan the same file the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftstudio.cli.main import main
from peftstudio.data import check_file, planning_stats, sample_path, stats_of
from peftstudio.hardware import simulated_hardware
from peftstudio.models import load_tokenizer
from peftstudio.planner import plan
from peftstudio.records.convert import to_dict

MODEL = "builtin:tiny-llama"


def test_the_cli_and_the_library_make_the_same_plan(capsys: pytest.CaptureFixture[str]) -> None:
    data = str(sample_path("pirate_chat.jsonl"))
    assert main(["plan", "--profile", "chatbot", "--model", MODEL, "--data", data, "--gpu", "RTX 3060 12GB",
                 "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    library = plan(simulated_hardware("RTX 3060 12GB"), MODEL, "chatbot", planning_stats(data, MODEL),
                   data_path=data).as_dict()
    assert from_cli["settings"] == library["settings"] and from_cli["memory"] == library["memory"]
    assert from_cli["stats"] == library["stats"] and from_cli["stats_assumed"] is False


def test_a_front_end_s_check_report_gives_the_same_figures() -> None:
    """What the app does: check the file with the model's tokenizer, then plan from that report."""
    data = sample_path("pirate_chat.jsonl")
    report = check_file(data, profile="chatbot", tokenizer=load_tokenizer(MODEL))
    assert stats_of(report) == planning_stats(data, MODEL)
    # measured with the tokenizer, not estimated from characters
    assert report.dataset_stats is not None and stats_of(report) == report.dataset_stats


def test_the_measurement_is_cached_by_content_and_tokenizer(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"question {i}"},
                          {"role": "assistant", "content": "an answer " * (i + 1)}]} for i in range(30)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    first = planning_stats(path, MODEL)
    assert planning_stats(path, MODEL) == first
    estimated = planning_stats(path)  # no tokenizer: the check's estimate, cached apart
    assert estimated.rows == first.rows == 30
    with path.open("a", encoding="utf-8") as fh:  # new content: measured again
        fh.write(json.dumps(rows[0] | {"messages": rows[0]["messages"][:1] + [
            {"role": "assistant", "content": "one more, longer answer " * 20}]}) + "\n")
    assert planning_stats(path, MODEL).rows == 31
    assert to_dict(planning_stats(path, MODEL))["tokens_max"] > to_dict(first)["tokens_max"]
