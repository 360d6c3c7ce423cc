"""Benchmark: how long a pause takes on a real model, against how long one optimizer step takes.

Requirement 13.1: training halts within 10 seconds of a pause request. On `builtin:smollm2-135m` with the
bundled sample chat data and gradient accumulation 8 (micro-batch 2, sequence 256), the engine's `fit`
trains in this process; after the first optimizer step a pause is requested at a random moment of a later
step (from another thread, as a signal or `peftstudio pause` does). The pause latency is the time from the
request to `fit` returning, the pause checkpoint included. It is compared with the median optimizer-step
time of the same run: pausing only at a step's end would make the user wait up to a whole step.

Prints ONE JSON line: ``pause_latency_s`` (each trial and the worst), ``step_seconds`` (median),
``worst_vs_step`` (worst latency / step time; below 1 means the pause did not wait for the step to end),
and ``within_10s``.

    .venv/bin/python benchmarks/pause_latency.py [--trials 3] [--accumulation 8]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def trial(model: Any, splits: Any, pad_id: int, accumulation: int, seed: int) -> tuple[float, list[float]]:
    """One run paused at a random moment of its third step: (latency, step times of the run)."""
    import lightning as L

    from peftstudio.callbacks import PauseCallback
    from peftstudio.callbacks.control import find_callback
    from peftstudio.data.samples import sample_path
    from peftstudio.engine.trainer import fit
    from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings

    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:smollm2-135m"),
                       data=DataSettings(str(sample_path("pirate_chat.jsonl"))),
                       lora=LoraSettings(rank=16, alpha=32, dropout=0.05),
                       training=TrainingSettings(max_steps=20, micro_batch_size=2, gradient_accumulation=accumulation,
                                                 sequence_length=256, checkpoint_every_steps=100,
                                                 eval_every_steps=1000))
    rng = random.Random(seed)
    steps: list[float] = []
    asked: dict[str, float] = {}

    class Asker(L.Callback):
        def __init__(self) -> None:
            self.seen, self.last = 0, time.perf_counter()

        def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
            if trainer.global_step == self.seen:
                return  # mid-accumulation
            now = time.perf_counter()
            self.seen = trainer.global_step
            if self.seen > 1:  # the first step carries the warm-up
                steps.append(now - self.last)
            self.last = now
            if self.seen == 2 and not asked:  # a random moment within the next step, from another thread
                pause = find_callback(trainer, PauseCallback)
                delay = rng.uniform(0.0, 0.9) * steps[-1]

                def ask() -> None:
                    time.sleep(delay)
                    asked["at"] = time.perf_counter()
                    pause.request("benchmark")  # type: ignore[union-attr]

                threading.Thread(target=ask, daemon=True).start()

    with tempfile.TemporaryDirectory() as folder:
        outcome = fit(config, model, splits.train, splits.validation, pad_id=pad_id, folder=folder,
                      extra_callbacks=[Asker()], monitor_interval=60, save_adapter=False)
        done = time.perf_counter()
    assert outcome.status == "paused", outcome.status
    return done - asked["at"], steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--accumulation", type=int, default=8)
    args = parser.parse_args()

    import attrs

    from peftstudio.data.samples import sample_path
    from peftstudio.engine.worker import load_sources
    from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings

    base = RunConfig(profile="chatbot", model=ModelChoice("builtin:smollm2-135m"),
                     data=DataSettings(str(sample_path("pirate_chat.jsonl"))),
                     training=TrainingSettings(sequence_length=256, micro_batch_size=2))
    latencies: list[float] = []
    step_times: list[float] = []
    for i in range(args.trials):
        model, tokenizer, splits = load_sources(attrs.evolve(base))  # a fresh base model each trial
        latency, steps = trial(model, splits, int(tokenizer.pad_token_id or 0), args.accumulation, seed=i)
        latencies.append(latency)
        step_times.extend(steps)
    step = statistics.median(step_times)
    print(json.dumps({
        "benchmark": "pause_latency", "model": "builtin:smollm2-135m", "gradient_accumulation": args.accumulation,
        "micro_batch_size": 2, "sequence_length": 256,
        "pause_latency_s": [round(v, 2) for v in latencies], "worst_pause_latency_s": round(max(latencies), 2),
        "step_seconds": round(step, 2), "worst_vs_step": round(max(latencies) / step, 3),
        "within_10s": max(latencies) < 10.0,
    }))


if __name__ == "__main__":
    main()
