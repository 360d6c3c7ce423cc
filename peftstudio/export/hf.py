"""Hugging Face export: a folder ready to upload to the Hub or load with transformers.

Merged (the default): the adapter is merged into the base and the full model saved as
safetensors with its config, generation config, tokenizer files (chat template included) and a
model card. Adapter only: the adapter files, the tokenizer and a card saying which base to load.

Example:
    >>> r = export_hf(ExportSource("builtin:tiny-llama"), "/tmp/hf-export")   # doctest: +SKIP
    >>> "model.safetensors" in r.files                                         # doctest: +SKIP
    True
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from peftstudio.export.card import model_card
from peftstudio.export.records import CardInfo, ExportResult, ExportSource, GenerationDefaults
from peftstudio.export.source import (
    ProgressFn,
    adapter_folder,
    check_disk_space,
    check_target,
    listing,
    load_model,
    load_tokenizer,
    parameter_count,
    report,
)
from peftstudio.store.files import atomic_directory, folder_size

#: Hub names of the built-in models, for the model card's `base_model`.
HUB_NAMES = {"builtin:smollm2-135m": "HuggingFaceTB/SmolLM2-135M-Instruct"}


def _stops(eos: int | list[int] | None, tokenizer: Any) -> int | list[int] | None:
    """The model's end-of-sequence id(s) and the chat template's end-of-turn marker, so that `generate` on
    the export stops where the answer ends (Gemma ends turns with <end_of_turn> but sequences with <eos>)."""
    from peftstudio.data.template import stop_ids

    first = eos if eos is not None else tokenizer.eos_token_id
    ids = [first] if isinstance(first, int) else list(first or [])
    ids += [i for i in stop_ids(tokenizer) if i not in ids]
    return ids[0] if len(ids) == 1 else (ids or None)


def _generation_config(model: Any, tokenizer: Any, generation: GenerationDefaults) -> Any:
    from transformers import GenerationConfig

    base = getattr(model, "generation_config", None)
    cfg = GenerationConfig.from_dict(base.to_dict()) if base is not None else GenerationConfig()
    cfg.bos_token_id = cfg.bos_token_id if cfg.bos_token_id is not None else tokenizer.bos_token_id
    cfg.eos_token_id = _stops(cfg.eos_token_id, tokenizer)
    cfg.pad_token_id = cfg.pad_token_id if cfg.pad_token_id is not None else tokenizer.pad_token_id
    cfg.do_sample = generation.temperature > 0
    if cfg.do_sample:
        cfg.temperature = generation.temperature
        cfg.top_p = generation.top_p
    cfg.max_new_tokens = generation.max_tokens
    if generation.repeat_penalty:
        cfg.repetition_penalty = generation.repeat_penalty
    return cfg


def export_hf(
    source: ExportSource,
    out_dir: str | Path,
    *,
    merged: bool = True,
    card_info: CardInfo | None = None,
    generation: Any = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    disk_free_bytes: int | None = None,
) -> ExportResult:
    """Export `source` as a Hugging Face folder at `out_dir` (written whole, or not at all).

    `generation` is any settings record with temperature/top_p/max_tokens (the playground's);
    `disk_free_bytes` overrides the measured free space (for tests and previews).
    """
    out = Path(out_dir).expanduser()
    check_target(out, overwrite)
    adapter = adapter_folder(source)
    if not merged and adapter is None:
        merged = True  # nothing to export but the model itself
    needed = parameter_count(source) * 4 if merged else folder_size(adapter)  # type: ignore[arg-type]
    check_disk_space(out.parent, needed, "the Hugging Face export", disk_free_bytes)
    info = card_info or CardInfo()
    base_ref = HUB_NAMES.get(source.model, source.model)
    steps = 4
    report(progress, "loading", 0, steps, "Loading the model")
    tokenizer = load_tokenizer(source)
    with atomic_directory(out, replace=overwrite) as tmp:
        if merged:
            model = load_model(source)
            report(progress, "saving", 1, steps, "Saving the merged weights")
            model.generation_config = _generation_config(model, tokenizer, GenerationDefaults.from_settings(generation))
            model.save_pretrained(str(tmp), safe_serialization=True)
            del model
        else:
            report(progress, "saving", 1, steps, "Copying the adapter")
            for item in adapter.iterdir():  # type: ignore[union-attr]
                if item.is_file() and not item.name.startswith("."):
                    shutil.copy2(item, tmp / item.name)
        report(progress, "tokenizer", 2, steps, "Saving the tokenizer and chat template")
        tokenizer.save_pretrained(str(tmp))
        (tmp / "README.md").write_text(model_card(source.display_name, base_ref, info, merged=merged), encoding="utf-8")
        report(progress, "done", steps, steps, "Export written")
    instructions = (
        f"The folder {out} holds a Hugging Face model.\n"
        + ("Load it with transformers: AutoModelForCausalLM.from_pretrained(folder).\n" if merged else
           f"Load {base_ref} with transformers, then PeftModel.from_pretrained(base, folder).\n")
        + f"Upload it to the Hub with: hf upload YOUR-NAME/{source.display_name} {out}"
    )
    return ExportResult(kind="hf", path=str(out), files=listing(out), instructions=instructions,
                        size_bytes=folder_size(out), quant=None if not merged else "f32",
                        model_file="model.safetensors" if merged else "adapter_model.safetensors", source=source)
