"""Small runs on `builtin:tiny-llama` for the guard tests."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from peftstudio.data.samples import sample_path
from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings


def config(data: str | Path | None = None, *, validation_fraction: float = 0.1, dropout: float = 0.05, rank: int = 4,
           targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj"),
           **training: Any) -> RunConfig:
    values: dict[str, Any] = {"max_steps": 6, "micro_batch_size": 4, "sequence_length": 128, "eval_every_steps": 100,
                              "checkpoint_every_steps": 2, "warmup_ratio": 0.0, **training}
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                     data=DataSettings(path=str(data or sample_path("pirate_chat.jsonl")),
                                       validation_fraction=validation_fraction),
                     lora=LoraSettings(rank=rank, alpha=2 * rank, dropout=dropout, target_modules=targets), training=TrainingSettings(**values))


def tiny_chat_file(path: Path, rows: int, seed: int = 0) -> Path:
    """`rows` short chats of random words: a data set small enough to learn by heart."""
    rng = random.Random(seed)
    words = ["arr", "ship", "gold", "sea", "map", "rum", "sail", "crew", "storm", "island", "parrot", "anchor"]
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(rows):
            q = " ".join(rng.choice(words) for _ in range(6))
            a = " ".join(rng.choice(words) for _ in range(12))
            fh.write(json.dumps({"messages": [{"role": "user", "content": q},
                                              {"role": "assistant", "content": a}]}) + "\n")
    return path


class Collect:
    """A sink that keeps every report (and passes them on to another sink)."""

    def __init__(self, then: Any = None) -> None:
        self.reports: list[Any] = []
        self.then = then

    def __call__(self, report: Any) -> None:
        self.reports.append(report)
        if self.then is not None:
            self.then(report)

    def of(self, name: str) -> list[Any]:
        return [r for r in self.reports if type(r).__name__ == name]


def load_inputs(cfg: RunConfig) -> tuple[Any, Any, Any]:
    """(model, tokenizer, splits) as the worker loads them."""
    from peftstudio.engine.worker import load_sources

    return load_sources(cfg)
