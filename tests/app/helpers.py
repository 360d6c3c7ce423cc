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
