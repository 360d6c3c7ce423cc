"""Small builders shared by the app tests (files and runs in the store; no mocks of our code)."""

from __future__ import annotations

import json
from pathlib import Path

from peftstudio.records import DataSettings, ModelChoice, RunConfig


def broken_dataset(folder: Path) -> Path:
    """A chat file with good rows, two lines that are not JSON and an exact duplicate."""
    rows = []
    for i in range(40):
        rows.append(json.dumps({"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                                             {"role": "assistant", "content": f"Arr! It be {2 * i}, matey!"}]}))
    rows.insert(5, '{"messages": [{"role": "user", "content": "broken')
    rows.insert(12, "this is not json at all")
    rows.append(rows[0])
    path = folder / "broken_chat.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def fake_run(store: object, data_path: str = "chat.jsonl") -> str:
    """A run row in the store (no worker), for following events and metrics written by the test."""
    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path=data_path))
    run = store.create_run(config, name="Injected")  # type: ignore[attr-defined]
    store.update_run(run.id, status="running", summary={"total_steps": 100})  # type: ignore[attr-defined]
    return run.id


def finished_runs(store: object, count: int = 1, *, max_steps: int = 4, data_path: str | None = None,
                  learning_rates: tuple[float, ...] = (2e-2, 5e-3, 1e-2, 3e-2, 1e-3)) -> list[str]:
    """`count` real runs of builtin:tiny-llama on the bundled sample, trained to completion in workers.

    Each run gets its own learning rate (so comparisons have differences to show); a few seconds each.
    Completed runs become versions of the model (the worker records them), like in the app.
    """
    from peftstudio.data import sample_path
    from peftstudio.engine.runs import start_run
    from peftstudio.records import TrainingSettings

    ids = []
    for i in range(count):
        training = TrainingSettings(learning_rate=learning_rates[i % len(learning_rates)], max_steps=max_steps,
                                    micro_batch_size=2, gradient_accumulation=1, sequence_length=128,
                                    eval_every_steps=max_steps, checkpoint_every_steps=max_steps, seed=i)
        config = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                           data=DataSettings(path=data_path or str(sample_path("pirate_chat.jsonl"))),
                           training=training)
        ids.append(start_run(config, store, detach=False, name=f"Run {i + 1}"))  # type: ignore[arg-type]
    return ids
