"""Fixtures for export tests: the tiny built-in model, a LoRA adapter trained-looking on it, a bad model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from peftstudio.export import ExportSource


@pytest.fixture(scope="session")
def tiny_folder() -> Path:
    from peftstudio.models import model_folder

    return Path(model_folder("builtin:tiny-llama"))


@pytest.fixture(scope="session")
def adapter_dir(tmp_path_factory: pytest.TempPathFactory, tiny_folder: Path) -> Path:
    """A LoRA adapter on tiny-llama with random (non-zero) weights, as PeftModel.save_pretrained writes it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_folder), dtype=torch.float32)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"],
                        init_lora_weights=False)
    model = get_peft_model(base, config)
    with torch.no_grad():  # a change of the size training makes: clearly visible in the logits
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.05)
    folder = tmp_path_factory.mktemp("adapter") / "adapter"
    model.save_pretrained(str(folder))
    return folder


@pytest.fixture()
def tiny() -> ExportSource:
    return ExportSource("builtin:tiny-llama")


@pytest.fixture()
def gpt2_folder(tmp_path: Path, tiny_folder: Path) -> Path:
    """A model folder claiming an architecture the GGUF writer does not support."""
    folder = tmp_path / "gpt2ish"
    shutil.copytree(tiny_folder, folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["GPT2LMHeadModel"]
    (folder / "config.json").write_text(json.dumps(config))
    return folder
