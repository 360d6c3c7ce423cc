"""Checkpoint folders: no pickle, exact round trips, atomic writes."""

from __future__ import annotations

import errno
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from peftstudio.engine import checkpoint_io
from peftstudio.engine.checkpoint_io import (
    STATE_FILE,
    FolderCheckpointIO,
    is_complete,
    join_tree,
    read_checkpoint,
    split_tree,
    write_checkpoint,
)
from peftstudio.errors import PlainError


@pytest.mark.parametrize(
    "tree",
    [
        {"a": 1, "b": [1.5, None, True], "c": "x"},
        {"opt": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 3)}}},
        {"t": (1, (2, "three")), "bytes": b"\x00\x01"},
        {"nested": [{"w": torch.arange(4, dtype=torch.int64)}, {"__odd": 1}]},
        {"np": np.arange(3, dtype=np.uint32), "scalar": np.float64(2.5)},
        OrderedDict([("w", torch.ones(1))]),
    ],
)
def test_split_join_round_trip(tree: object) -> None:
    skeleton, tensors = split_tree(tree)
    back = join_tree(skeleton, tensors)

    def same(a: object, b: object) -> None:
        if isinstance(a, torch.Tensor):
            assert isinstance(b, torch.Tensor) and torch.equal(a, b) and a.dtype == b.dtype
        elif isinstance(a, np.ndarray):
            assert np.array_equal(a, b) and a.dtype == b.dtype  # type: ignore[union-attr]
        elif isinstance(a, dict):
            assert isinstance(b, dict) and list(a) == list(b)
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, (list, tuple)):
            assert type(a) is type(b) and len(a) == len(b)  # type: ignore[arg-type]
            for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
                same(x, y)
        else:
            assert a == b

    same(dict(tree) if isinstance(tree, OrderedDict) else tree, back)


def test_objects_that_would_need_pickle_are_refused() -> None:
    with pytest.raises(TypeError, match=r"object at \.x"):
        split_tree({"x": object()})


def test_write_and_read_a_folder(tmp_path: Path) -> None:
    path = write_checkpoint({"step": 5, "w": torch.ones(2, 2)}, tmp_path / "step-0000005")
    assert is_complete(path)
    back = read_checkpoint(path)
    assert back["step"] == 5 and torch.equal(back["w"], torch.ones(2, 2))
    assert not list(tmp_path.glob(".*partial"))


def test_a_failed_write_leaves_the_previous_checkpoint_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "step-0000010"
    write_checkpoint({"v": 1, "w": torch.zeros(1)}, target)

    def disk_full(*_a: object, **_k: object) -> None:  # the OS error a full disk gives
        raise OSError(errno.ENOSPC, "No space left on device")

    import safetensors.torch

    monkeypatch.setattr(safetensors.torch, "save_file", disk_full)
    with pytest.raises(OSError):
        write_checkpoint({"v": 2, "w": torch.ones(1)}, target)
    assert read_checkpoint(target)["v"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["missing_state", "garbage_tensors"])
def test_damaged_checkpoint_is_a_plain_error(tmp_path: Path, damage: str) -> None:
    path = write_checkpoint({"w": torch.ones(1)}, tmp_path / "ck")
    if damage == "missing_state":
        (path / STATE_FILE).unlink()
    else:
        (path / checkpoint_io.TENSOR_FILE).write_bytes(b"not safetensors")
    with pytest.raises(PlainError) as info:
        read_checkpoint(path)
    assert info.value.code == "checkpoint_corrupt"


def test_lightning_plugin_round_trip(tmp_path: Path) -> None:
    io = FolderCheckpointIO()
    io.save_checkpoint({"epoch": 1, "state_dict": {"w": torch.ones(3)}}, tmp_path / "c")
    assert io.load_checkpoint(tmp_path / "c", weights_only=True)["epoch"] == 1
    io.remove_checkpoint(tmp_path / "c")
    assert not (tmp_path / "c").exists()
