"""Reading an export source (base model + optional LoRA adapter) and the checks every export shares.

The base folder comes from `peftstudio.models.model_folder`; an adapter is merged into the base
with PEFT's `merge_and_unload`. `weight_shapes` reads a folder's weight shapes without loading them (for
size estimates); llama.cpp's converter reads the weights themselves.

Example:
    >>> shortfall(needed=10, free=100)
    0
    >>> shortfall(needed=200, free=100) > 0
    True
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peftstudio.errors import make
from peftstudio.export.records import ExportProgress, ExportSource

ProgressFn = Callable[[ExportProgress], None]

#: Extra room kept free beyond an export's estimated size (temp files, metadata, safety).
DISK_MARGIN = 1.10
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                    "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json")


def report(progress: ProgressFn | None, stage: str, done: int, total: int, message: str = "") -> None:
    """Send one progress report if anyone listens."""
    if progress is not None:
        progress(ExportProgress(stage, done, total, message))


def base_folder(source: ExportSource) -> Path:
    """The Hugging Face folder of the source's base model."""
    from peftstudio.models import model_folder

    return Path(model_folder(source.model))


def adapter_folder(source: ExportSource) -> Path | None:
    """The source's adapter folder, checked to hold a PEFT adapter; None without one."""
    if not source.adapter:
        return None
    folder = Path(source.adapter).expanduser()
    if not (folder / "adapter_config.json").is_file():
        raise make("file_not_found", path=str(folder / "adapter_config.json"))
    return folder


def tokenizer_folder(source: ExportSource) -> Path:
    """Where the source's tokenizer lives: the adapter folder if training saved one there, else the base."""
    adapter = adapter_folder(source)
    if adapter is not None and (adapter / "tokenizer.json").is_file():
        return adapter
    return base_folder(source)


def read_config(source: ExportSource) -> dict[str, Any]:
    """The base model's config.json as a dict."""
    path = base_folder(source) / "config.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def load_tokenizer(source: ExportSource) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_folder(source)), trust_remote_code=False)


def load_model(source: ExportSource) -> Any:
    """The source as one float32 transformers model in eval mode, the adapter merged in."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        str(base_folder(source)), dtype=torch.float32, trust_remote_code=False
    )
    adapter = adapter_folder(source)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return model.eval()


def weight_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    """The shapes of a model folder's safetensors weights, by name, read without loading them."""
    from safetensors import safe_open

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise make("file_not_found", path=str(folder / "model.safetensors"))
    shapes: dict[str, tuple[int, ...]] = {}
    for file in files:
        with safe_open(str(file), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 - safe_open is not a dict
                shapes[key] = tuple(fh.get_slice(key).get_shape())
    return shapes


def parameter_count(source: ExportSource) -> int:
    """Number of weights in the base model (an adapter merged in adds none)."""
    from math import prod

    return sum(prod(s) for s in weight_shapes(base_folder(source)).values())


def shortfall(*, needed: int, free: int) -> int:
    """How many bytes are missing for `needed` bytes (plus the safety margin) when `free` are free."""
    return max(0, int(needed * DISK_MARGIN) - free)


def human_bytes(n: float) -> str:
    """A byte count as people write it.

    Example:
        >>> human_bytes(1536), human_bytes(3 * 1024**3)
        ('1.5 KB', '3.0 GB')
    """
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def check_disk_space(out: Path, needed: int, what: str, free: int | None = None) -> None:
    """Raise the plain `disk_full` error before writing when `needed` bytes will not fit."""
    from peftstudio.history.disk import check_space, free_space

    available = free_space(out) if free is None else free
    if shortfall(needed=needed, free=available):
        # the history's prompt: which older model versions could be archived or deleted, and what each frees
        prompt = check_space(int(needed * DISK_MARGIN), available, margin_bytes=0)
        if prompt is not None:
            raise prompt.as_error(what)
        raise make("disk_full", what=what, needed=human_bytes(needed * DISK_MARGIN), free=human_bytes(available))


def check_target(out: Path, overwrite: bool) -> None:
    """Refuse to write over a folder that holds something unless asked to (checked before any work)."""
    if out.exists() and not overwrite and (out.is_file() or any(out.iterdir())):
        raise make("config_invalid", problems=f"The export folder {out} already exists and is not empty. Choose "
                                              "another folder, or allow replacing it.")


def copy_tokenizer_files(folder: Path, target: Path) -> list[str]:
    """Copy the tokenizer files found in `folder` to `target`; the names copied."""
    copied = []
    for name in _TOKENIZER_FILES:
        if (folder / name).is_file():
            shutil.copy2(folder / name, target / name)
            copied.append(name)
    return copied


def listing(folder: Path) -> tuple[str, ...]:
    """The files under `folder`, relative and sorted."""
    return tuple(sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()))
