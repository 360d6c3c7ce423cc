"""Issue 23: `benchmarks/gpu_check.sh --dry-run` runs every step of the GPU check on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEPS = ["probe", "packing", "lora_bf16", "pause_resume", "fp16", "qlora_4bit", "playground"]


def test_gpu_check_dry_run_passes_every_step(tmp_path: Path) -> None:
    results = ROOT / "benchmarks" / "results"
    before = {p: p.stat().st_mtime_ns for p in results.glob("*.jsonl")}
    env = {**os.environ, "PYTHON": sys.executable, "PEFTSTUDIO_HOME": str(tmp_path), "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]  # stdout is JSON lines only
    by_step = {line["step"]: line for line in lines}
    assert list(by_step) == STEPS, done.stderr[-3000:]
    failed = {name: line.get("error") for name, line in by_step.items() if not line["ok"]}
    assert not failed and done.returncode == 0, (failed, done.stderr[-3000:])
    assert all(by_step["packing"]["packing_on"].values())
    lora = by_step["lora_bf16"]["models"]["smollm2-135m"]
    assert lora["tokens_per_second_ours"] > 0 and lora["tokens_per_second_hf_trainer"] > 0
    assert lora["estimated_peak_bytes"] > 0
    pause = by_step["pause_resume"]
    assert pause["resumed_from"] == pause["paused_at"] and pause["final_step"] > pause["paused_at"]
    assert pause["resume_loss_difference"] == 0  # bit-identical on the CPU
    assert by_step["fp16"]["explosions"] == 0
    assert by_step["qlora_4bit"]["skipped"]
    assert by_step["playground"]["models"]["smollm2-135m"]["tokens"] >= 1
    assert {p: p.stat().st_mtime_ns for p in results.glob("*.jsonl")} == before  # a dry run writes no figures
