"""A finished run whose adapter is a real, non-trivial LoRA adapter over builtin:tiny-llama (its held-out data the
bundled pirate chat), made by the library in a second: what the playground and export API tests work on."""

from __future__ import annotations

from pathlib import Path

import torch

from peftstudio.data import sample_path
from peftstudio.models import load_model
from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.store import open_store


def make_tuned_run() -> str:
    from peft import LoraConfig, get_peft_model

    store = open_store()
    run = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                     data=DataSettings(path=str(sample_path("pirate_chat.jsonl")))), name="tiny")
    torch.manual_seed(0)
    model = get_peft_model(load_model("builtin:tiny-llama"),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(Path(run.folder) / "adapter")
    store.update_run(run.id, status="completed")
    return run.id
