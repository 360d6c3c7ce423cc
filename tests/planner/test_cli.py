"""`peftstudio plan` and `peftstudio profiles` on the command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from peftstudio.cli.main import main
from peftstudio.planner import profile_ids

SETTING_KEYS = {"precision", "quantization", "micro_batch_size", "gradient_accumulation", "gradient_checkpointing",
                "sequence_length", "learning_rate", "epochs", "lora_rank", "lora_alpha", "lora_dropout",
                "target_modules", "steps", "max_steps"}


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_plan_json_has_the_issue_keys(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["plan", "--profile", "chatbot", "--model", "llama-3.1-8b", "--gpu-memory", "8", "--json"])
    assert isinstance(data, dict)
    assert SETTING_KEYS <= set(data["settings"])
    for key, setting in data["settings"].items():
        assert set(setting) >= {"value", "reason"}, key
    assert data["settings"]["quantization"]["value"] == "4bit"
    assert data["settings"]["quantization"]["value"] in ("none", "8bit", "4bit")
    memory = data["memory"]
    assert {"estimated_peak_bytes", "available_bytes", "base_weights_bytes", "lora_weights_bytes", "gradients_bytes",
            "optimizer_bytes", "activations_bytes", "logits_bytes", "overhead_bytes"} <= set(memory)
    assert memory["estimated_peak_bytes"] < 0.9 * memory["available_bytes"]
    est = data["estimates"]
    assert set(est["duration_seconds"]) == {"min", "max"}
    assert est["duration_seconds"]["min"] <= est["duration_seconds"]["max"]
    for key in ("gpu_hours", "energy_kwh", "electricity_cost", "co2_kg"):
        assert key in est
    assert len(data["alternatives"]) >= 2
    assert {"title", "description", "changes", "memory_delta", "duration_delta"} <= set(data["alternatives"][0])


def test_plan_set_and_rate_and_gpu_name(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["plan", "--profile", "summarization", "--model", "qwen2.5-1.5b", "--gpu", "RTX 3060",
                          "--set", "lora_rank=8", "--set", "learning_rate=1e-4", "--electricity-rate", "0.3",
                          "--currency", "EUR", "--json"])
    assert isinstance(data, dict)
    assert data["settings"]["lora_rank"] == {**data["settings"]["lora_rank"], "value": 8, "source": "user"}
    assert data["settings"]["learning_rate"]["value"] == 1e-4
    assert data["device_name"] == "RTX 3060 12GB"
    assert data["estimates"]["electricity_rate"] == 0.3 and data["estimates"]["currency"] == "EUR"


def test_plan_with_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": "Question " * 30}, {"role": "assistant", "content": "x " * 60}]}
            for _ in range(40)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = _json(capsys, ["plan", "--profile", "chatbot", "--model", "builtin:tiny-llama", "--cpu",
                          "--data", str(path), "--json"])
    assert isinstance(data, dict)
    assert data["stats"]["rows"] == 40 and not data["stats_assumed"]
    # measured with tiny-llama's own tokenizer (195 tokens an example; the old character estimate said ~100),
    # rounded up to 64s: the same figure the app plans from
    assert data["stats"]["tokens_max"] == 195
    assert data["settings"]["sequence_length"]["value"] == 256
    assert data["settings"]["precision"]["value"] == "fp32"


def test_plan_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--profile", "chatbot", "--model", "builtin:smollm2-135m", "--cpu"]) == 0
    out = capsys.readouterr().out
    assert "Settings:" in out and "Memory:" in out and "Time:" in out and "Alternatives:" in out
    assert "fp32" in out


def test_plan_bad_input_is_a_plain_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--profile", "poetry", "--model", "llama-3.1-8b"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "chatbot" in err
    assert main(["plan", "--profile", "chatbot", "--model", "llama-3.1-8b", "--set", "batch=2"]) == 2
    assert "unknown setting" in capsys.readouterr().err


def test_profiles_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, ["profiles", "--model", "builtin:tiny-llama", "--json"])
    assert isinstance(data, list) and [p["id"] for p in data] == profile_ids()
    for p in data:
        assert p["description"] and 2 <= len(p["examples"]) <= 3
        est = p["estimate"]
        assert est["model"] == "builtin:tiny-llama"
        assert est["duration_seconds"]["min"] <= est["duration_seconds"]["max"]
        assert est["estimated_peak_bytes"] > 0 and est["available_bytes"] > 0


def test_profiles_show_time_and_memory_and_whether_it_fits(capsys: pytest.CaptureFixture[str]) -> None:
    """Requirement 3.3: every profile's estimate names time and resources, not time alone."""
    assert main(["profiles", "--gpu", "RTX 3060 12GB"]) == 0
    out = capsys.readouterr().out
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) == len(profile_ids())
    for block in blocks:
        assert " to " in block and "examples" in block  # the time range
        assert re.search(r"memory: about [\d.]+ (MB|GB) of 12.0 GB — (fits|does not fit)", block), block


def test_plan_json_in_a_subprocess(tmp_path: Path) -> None:
    env = dict(os.environ, PEFTSTUDIO_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "peftstudio.cli.main", "plan", "--profile", "code-generation",
                          "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["settings"]["quantization"]["value"] == "none"
    assert data["settings"]["sequence_length"]["value"] == 2048
