"""Builders shared by the history tests: configs, stored runs with metrics, adapter folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.store import Store


def config(**training: Any) -> RunConfig:
    lora = training.pop("lora", LoraSettings())
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                     data=DataSettings(path="chat.jsonl"), lora=lora, training=TrainingSettings(**training))


def completed_run(store: Store, cfg: RunConfig, losses: list[float], *, tokens_per_step: int = 100,
                  elapsed: float = 10.0, summary: dict[str, Any] | None = None, name: str = "") -> str:
    """A completed run with one val_loss/train_loss point per step (tokens grow by `tokens_per_step`)."""
    run = store.create_run(cfg, name=name)
    for step, loss in enumerate(losses, 1):
        store.add_metrics(run.id, step, {"val_loss": loss, "train_loss": loss + 0.1},
                          tokens_seen=step * tokens_per_step)
    store.update_run(run.id, status="completed", elapsed_seconds=elapsed, summary=summary or {})
    return run.id


def adapter_folder(root: Path, seed: int = 0, size: int = 40_000) -> Path:
    """A stand-in adapter folder (the versions code copies files; it never loads them)."""
    folder = root / f"adapter-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_model.safetensors").write_bytes(os.urandom(size))
    (folder / "adapter_config.json").write_text(f'{{"r": 8, "seed": {seed}}}')
    return folder
