"""How long one `plan()` call takes (target: well under 50 ms, so screens can re-plan on every change).

Times the worst realistic cases (a model that needs 4-bit on a small GPU, with user overrides, and a
CPU plan), each the median of many calls after a warm-up. The baseline, measured in the same run, is
one call of the memory estimator that the planner calls many times; the ratio says how many
estimator calls' worth of work a plan is.

    .venv/bin/python benchmarks/plan_speed.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from peftstudio.hardware import simulated_hardware
from peftstudio.models.catalog import find_model
from peftstudio.planner import estimate_memory, plan
from peftstudio.records import DatasetStats

TARGET_MS = 50.0
STATS = DatasetStats(rows=5000, tokens_min=20, tokens_median=400, tokens_p95=1500, tokens_max=4000,
                     tokens_total=2_500_000)


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up: first-call imports and caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    cases = {
        "llama-3.1-8b on 8 GB (4-bit)": lambda: plan(simulated_hardware(gpu_memory_gb=8), "llama-3.1-8b", "chatbot",
                                                      stats=STATS),
        "llama-3.1-8b on 8 GB with overrides": lambda: plan(simulated_hardware(gpu_memory_gb=8), "llama-3.1-8b",
                                                             "chatbot", stats=STATS,
                                                             overrides=["micro_batch_size=2", "lora_rank=32"]),
        "qwen2.5-7b on H100": lambda: plan(simulated_hardware("H100"), "qwen2.5-7b", "code-generation", stats=STATS),
        "smollm2-135m on CPU": lambda: plan(simulated_hardware(cpu_cores=2), "builtin:smollm2-135m", "chatbot",
                                             stats=STATS),
    }
    spec = find_model("llama-3.1-8b")
    baseline = _median_ms(lambda: estimate_memory(
        spec, precision="bf16", quantization="4bit", micro_batch_size=2, sequence_length=1024, lora_rank=16,
        target_modules=spec.attention_modules, available_bytes=8 * 2**30), 500)
    results = {name: round(_median_ms(fn, 50), 3) for name, fn in cases.items()}
    worst = max(results.values())
    print(json.dumps({
        "benchmark": "plan_speed", "target_ms": TARGET_MS, "plan_ms": results, "worst_plan_ms": worst,
        "baseline_estimate_memory_ms": round(baseline, 4), "worst_ratio_to_baseline": round(worst / baseline, 1),
        "pass": worst < TARGET_MS,
    }))
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
