"""An export that does not fit on the disk offers the older model versions to clear, with their sizes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from peftstudio.errors import PlainError
from peftstudio.export import ExportSource, export_gguf
from peftstudio.history import create_version, set_active
from peftstudio.models import load_model
from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.store import open_store


def _version(tmp_path: Path, name: str) -> str:
    from peft import LoraConfig, get_peft_model

    store = open_store()
    run = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                     data=DataSettings(path="chat.jsonl")))
    torch.manual_seed(0)
    adapter = tmp_path / name
    get_peft_model(load_model("builtin:tiny-llama"), LoraConfig(r=2, target_modules=["q_proj"])).save_pretrained(adapter)
    store.update_run(run.id, status="completed")
    return create_version(run.id, adapter, store=store).id


def test_export_short_of_space_lists_versions_to_clear(tmp_path: Path) -> None:
    old = _version(tmp_path, "a")
    newest = _version(tmp_path, "b")
    set_active(newest)
    with pytest.raises(PlainError) as err:
        export_gguf(ExportSource("builtin:tiny-llama"), tmp_path / "out", disk_free_bytes=1000)
    info = err.value.info
    assert info.code == "disk_full"
    assert info.details["candidates"] == old  # the active version is never offered
    assert "v1" in info.details["prompt"] and "delete frees" in info.details["prompt"]
    assert any(a.fix_id == "free_space" for a in info.actions)
    assert not (tmp_path / "out").exists()
