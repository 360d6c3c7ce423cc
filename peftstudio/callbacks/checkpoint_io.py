"""Checkpoints as folders: tensors in safetensors, everything else in JSON; written atomically.

A Lightning checkpoint is a nested structure of dicts, lists, tuples, numbers,
strings and tensors. `split_tree` separates it into a JSON skeleton and a flat
``{name: tensor}`` map; `join_tree` puts it back together. Nothing is pickled, so
loading a checkpoint can never run code. `FolderCheckpointIO` plugs this into
Lightning (``Trainer(plugins=[FolderCheckpointIO()])``): each checkpoint is a folder
built under a temporary name and renamed into place, so a crash or a full disk
leaves the previous checkpoints untouched.

Example:
    >>> import torch
    >>> skeleton, tensors = split_tree({"step": 3, "w": torch.ones(2), "opt": {0: (1, 2)}})
    >>> sorted(tensors)
    ['t0']
    >>> join_tree(skeleton, tensors)["opt"]
    {0: (1, 2)}
"""

from __future__ import annotations

import base64
import json
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins import CheckpointIO

from peftstudio.errors import make
from peftstudio.store.files import atomic_directory

STATE_FILE = "state.json"
TENSOR_FILE = "tensors.safetensors"
FORMAT = 1


def split_tree(tree: Any) -> tuple[Any, dict[str, torch.Tensor]]:
    """`tree` as (JSON-able skeleton, tensors by name); raises `TypeError` naming any other object."""
    tensors: dict[str, torch.Tensor] = {}

    def enc(value: Any, where: str) -> Any:
        if isinstance(value, torch.Tensor):
            name = f"t{len(tensors)}"
            # a private contiguous copy: safetensors refuses shared storage
            tensors[name] = value.detach().to("cpu").contiguous().clone()
            return {"__tensor__": name}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, tuple):
            return {"__tuple__": [enc(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [enc(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, bytes):
            return {"__bytes__": base64.b64encode(value).decode("ascii")}
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in value):
                return {k: enc(v, f"{where}.{k}") for k, v in value.items()}
            return {"__map__": [[enc(k, where), enc(v, f"{where}.{k}")] for k, v in value.items()]}
        if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalars
            return value.item()
        if hasattr(value, "tolist"):  # numpy arrays (e.g. NumPy's RNG state)
            return {"__array__": value.tolist(), "dtype": str(value.dtype)}
        raise TypeError(f"cannot store {type(value).__name__} at {where or 'the top'} in a checkpoint")

    return enc(tree, ""), tensors


def join_tree(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of `split_tree`."""

    def dec(value: Any) -> Any:
        if isinstance(value, list):
            return [dec(v) for v in value]
        if isinstance(value, dict):
            if "__tensor__" in value:
                return tensors[value["__tensor__"]]
            if "__tuple__" in value:
                return tuple(dec(v) for v in value["__tuple__"])
            if "__bytes__" in value:
                return base64.b64decode(value["__bytes__"])
            if "__map__" in value:
                return {dec(k): dec(v) for k, v in value["__map__"]}
            if "__array__" in value:
                import numpy as np

                return np.asarray(value["__array__"], dtype=value["dtype"])
            return {k: dec(v) for k, v in value.items()}
        return value

    return dec(skeleton)


def write_checkpoint(checkpoint: dict[str, Any], path: str | Path) -> Path:
    """Write `checkpoint` as a folder at `path` atomically (an existing folder is replaced)."""
    from safetensors.torch import save_file

    skeleton, tensors = split_tree(checkpoint)
    with atomic_directory(path, replace=True) as tmp:
        save_file(tensors, str(tmp / TENSOR_FILE))
        (tmp / STATE_FILE).write_text(json.dumps({"format": FORMAT, "tree": skeleton}), encoding="utf-8")
    return Path(path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint folder; a damaged one raises the plain ``checkpoint_corrupt`` error."""
    from safetensors.torch import load_file

    folder = Path(path)
    try:
        doc = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        tensors = load_file(str(folder / TENSOR_FILE), device="cpu")
        return join_tree(doc["tree"], tensors)  # type: ignore[no-any-return]
    except FileNotFoundError as exc:
        raise make("checkpoint_corrupt", path=str(folder),
                   fallback=f"A file is missing ({Path(exc.filename or '').name}).") from exc
    except Exception as exc:  # safetensors raises its own error type for damaged files
        if isinstance(exc, MemoryError):
            raise
        raise make("checkpoint_corrupt", path=str(folder), fallback=f"({type(exc).__name__})") from exc


def is_complete(path: str | Path) -> bool:
    """Whether `path` is a finished checkpoint folder (partial writes never have this name)."""
    folder = Path(path)
    return (folder / STATE_FILE).is_file() and (folder / TENSOR_FILE).is_file()


class FolderCheckpointIO(CheckpointIO):
    """Lightning checkpoint plugin: atomic folders of safetensors + JSON, no pickle."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        write_checkpoint(dict(checkpoint) if isinstance(checkpoint, OrderedDict) else checkpoint, path)

    def load_checkpoint(self, path: Any, map_location: Any | None = None,
                        weights_only: bool | None = None) -> dict[str, Any]:
        return read_checkpoint(path)

    def remove_checkpoint(self, path: Any) -> None:
        shutil.rmtree(path, ignore_errors=True)
