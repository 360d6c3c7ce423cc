"""The data side of training: tokenized examples -> (packed) micro-batches, resumable mid-epoch.

The training order is a pure function of (seed, epoch): rows are shuffled with a
private generator (the global RNG is never touched, so dropout sees the same random
numbers whether or not a run was paused). Every training batch carries its position
``(epoch, batch index)``; the data module records the position of the last batch the
model actually consumed (not the one Lightning prefetched), saves it in checkpoints,
and a resumed run starts exactly at the next batch.

Example:
    >>> examples = [{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]} for _ in range(10)]
    >>> dm = TextDataModule(examples, examples[:2], micro_batch_size=2, sequence_length=8, pad_id=0)
    >>> dm.setup("fit")
    >>> dm.batches_per_epoch  # 10 examples of 3 tokens -> 5 rows of 2 -> 3 batches
    3
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from peftstudio.engine.packing import Example, collate_packed, collate_padded, plan_rows

POSITION_KEY = "data_position"


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The shuffled order of `n` rows for `epoch`: the same numbers every time for the same inputs.

    Example:
        >>> epoch_order(5, seed=1, epoch=0) == epoch_order(5, seed=1, epoch=0)
        True
        >>> sorted(epoch_order(5, seed=1, epoch=3))
        [0, 1, 2, 3, 4]
    """
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=gen).tolist()


def epoch_batches(n_rows: int, batch_size: int, seed: int, epoch: int, *, shuffle: bool = True,
                  rank: int = 0, world_size: int = 1) -> list[list[int]]:
    """This rank's micro-batches (lists of row indices) for one epoch; every rank gets the same count.

    Example:
        >>> epoch_batches(5, 2, seed=0, epoch=0, shuffle=False)
        [[0, 1], [2, 3], [4]]
        >>> epoch_batches(5, 2, seed=0, epoch=0, shuffle=False, rank=1, world_size=2)
        [[2, 3]]
    """
    order = epoch_order(n_rows, seed, epoch) if shuffle else list(range(n_rows))
    batches = [order[i:i + batch_size] for i in range(0, n_rows, batch_size)]
    per_rank = len(batches) // world_size if world_size > 1 else len(batches)
    return batches[rank::world_size][:per_rank]


def validation_batches(n_rows: int, batch_size: int, *, rank: int = 0, world_size: int = 1) -> list[tuple[list[int], bool]]:
    """This rank's validation micro-batches as ``(rows, filler)``: across the ranks every batch is used once,
    and a rank short of the longest count repeats a batch as a *filler* that carries no weight.

    Training drops a rank's leftover batches (a different few each epoch, the order being shuffled); validation
    must not: with two GPUs and one validation batch the second rank would have none, and the validation loss
    would be empty. Every rank needs the same number of batches to reduce the loss together.

    Example:
        >>> validation_batches(5, 2, rank=1, world_size=2)
        [([2, 3], False), ([0, 1], True)]
        >>> validation_batches(5, 2)
        [([0, 1], False), ([2, 3], False), ([4], False)]
    """
    batches = [list(range(i, min(i + batch_size, n_rows))) for i in range(0, n_rows, batch_size)]
    if world_size <= 1:
        return [(b, False) for b in batches]
    mine = [(b, False) for b in batches[rank::world_size]]
    longest = math.ceil(len(batches) / world_size)
    return mine + [(batches[0], True)] * (longest - len(mine)) if batches else mine


class _RowDataset(Dataset):  # type: ignore[type-arg]
    """Rows (lists of examples); indexed by ``(epoch, batch_index, row)`` keys so batches know their place."""

    def __init__(self, examples: Sequence[Example], rows: list[list[int]]) -> None:
        self.examples = examples
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: Any) -> tuple[Any, list[Example]]:
        row = key[2] if isinstance(key, tuple) else key
        return key, [self.examples[i] for i in self.rows[row]]


class ResumableBatchSampler(Sampler[list[Any]]):
    """Yields one epoch's micro-batches as ``(epoch, batch_index, row)`` keys, optionally starting mid-epoch."""

    def __init__(self, n_rows: int, batch_size: int, seed: int, *, shuffle: bool = True, rank: int = 0,
                 world_size: int = 1, start: tuple[int, int] = (0, 0)) -> None:
        self.n_rows, self.batch_size, self.seed, self.shuffle = n_rows, batch_size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch = start[0]
        self._start: tuple[int, int] | None = start if start != (0, 0) else None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def sampler(self) -> ResumableBatchSampler:
        # Lightning calls set_epoch on ``dataloader.batch_sampler.sampler`` at each epoch start
        return self

    def __len__(self) -> int:
        batches = math.ceil(self.n_rows / self.batch_size)
        return batches // self.world_size if self.world_size > 1 else batches

    def __iter__(self) -> Iterator[list[Any]]:
        epoch, first = self.epoch, 0
        if self._start is not None:
            epoch, first = self._start
            self._start = None  # only the first pass after a resume starts mid-epoch
        batches = epoch_batches(self.n_rows, self.batch_size, self.seed, epoch, shuffle=self.shuffle,
                                rank=self.rank, world_size=self.world_size)
        for index in range(first, len(batches)):
            yield [(epoch, index, row) for row in batches[index]]


class ValidationSampler(Sampler[list[Any]]):
    """This rank's validation batches (`validation_batches`) as ``(epoch, batch_index, row, filler)`` keys."""

    def __init__(self, n_rows: int, batch_size: int, *, rank: int = 0, world_size: int = 1) -> None:
        self.batches = validation_batches(n_rows, batch_size, rank=rank, world_size=world_size)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[list[Any]]:
        for index, (rows, filler) in enumerate(self.batches):
            yield [(0, index, row, filler) for row in rows]


class TextDataModule(L.LightningDataModule):
    """Micro-batches of tokenized examples (``{"input_ids", "labels"}``), packed or padded.

    Reusable outside PEFT Studio: give it lists of examples and a pad id.
    """

    def __init__(self, train: Sequence[Example], validation: Sequence[Example], *, micro_batch_size: int,
                 sequence_length: int, pad_id: int, packing: bool = True, flat: bool = False,
                 seed: int = 42) -> None:
        super().__init__()
        self.train_examples = list(train)
        self.validation_examples = list(validation)
        self.micro_batch_size = micro_batch_size
        self.sequence_length = sequence_length
        self.pad_id = pad_id
        self.packing = packing
        self.flat = flat  # a micro-batch's packed rows laid in one row (`collate_packed`)
        self.seed = seed
        self.position: tuple[int, int] = (0, 0)  # next (epoch, batch) to train on
        self._rows: list[list[int]] = []
        self._val_rows: list[list[int]] = []

    # ------------------------------------------------------------ layout
    def _layout(self, examples: Sequence[Example]) -> list[list[int]]:
        if not self.packing:
            return [[i] for i in range(len(examples))]
        # pack in a seeded shuffled order (fixed for the run) so rows mix examples, then map back
        order = epoch_order(len(examples), self.seed, -1)
        rows = plan_rows([len(examples[i]["input_ids"]) for i in order], self.sequence_length)
        return [[order[j] for j in row] for row in rows]

    def setup(self, stage: str | None = None) -> None:
        if not self._rows:
            self._rows = self._layout(self.train_examples)
            self._val_rows = self._layout(self.validation_examples)

    @property
    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 0, 1
        return int(trainer.global_rank), int(trainer.world_size)

    @property
    def batches_per_epoch(self) -> int:
        """Micro-batches per epoch on each device."""
        self.setup()
        _rank, world = self._world
        return len(ResumableBatchSampler(len(self._rows), self.micro_batch_size, self.seed, world_size=world))

    @property
    def train_rows(self) -> int:
        self.setup()
        return len(self._rows)

    @property
    def useful_train_tokens(self) -> int:
        return sum(len(e["input_ids"]) for e in self.train_examples)

    # ------------------------------------------------------------ loaders
    def _collate(self, items: list[tuple[Any, list[Example]]]) -> dict[str, torch.Tensor]:
        rows = [row for _key, row in items]
        if self.packing:
            batch = collate_packed(rows, self.pad_id, flat=self.flat)
        else:
            batch = collate_padded([row[0] for row in rows], self.pad_id)
        key = items[0][0]
        if isinstance(key, tuple) and len(key) == 4:  # validation
            if key[3]:  # a filler batch: it counts for nothing (`validation_batches`)
                batch["labels"] = torch.full_like(batch["labels"], -100)
        elif isinstance(key, tuple):
            batch[POSITION_KEY] = torch.tensor(key[:2], dtype=torch.long)
        return batch

    def _loader(self, rows: list[list[int]], examples: Sequence[Example], sampler: Sampler[list[Any]]) -> DataLoader:  # type: ignore[type-arg]
        # an explicit generator keeps DataLoader from drawing a seed from the global RNG
        return DataLoader(_RowDataset(examples, rows), batch_sampler=sampler, collate_fn=self._collate,
                          num_workers=0, generator=torch.Generator().manual_seed(self.seed))

    def train_dataloader(self) -> DataLoader:  # type: ignore[type-arg]
        self.setup()
        rank, world = self._world
        sampler = ResumableBatchSampler(len(self._rows), self.micro_batch_size, self.seed, rank=rank,
                                        world_size=world, start=self.position)
        return self._loader(self._rows, self.train_examples, sampler)

    def val_dataloader(self) -> DataLoader:  # type: ignore[type-arg]
        self.setup()
        rank, world = self._world
        sampler = ValidationSampler(len(self._val_rows), self.micro_batch_size, rank=rank, world_size=world)
        return self._loader(self._val_rows, self.validation_examples, sampler)

    # ------------------------------------------------------------ position tracking
    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        # called when the model takes the batch (after Lightning's prefetch), so this is the true position
        if isinstance(batch, dict) and POSITION_KEY in batch:
            epoch, index = (int(v) for v in batch.pop(POSITION_KEY).tolist())
            self.position = self._normalise(epoch, index + 1)
        return batch

    def _normalise(self, epoch: int, next_batch: int) -> tuple[int, int]:
        if next_batch >= self.batches_per_epoch:
            return epoch + 1, 0
        return epoch, next_batch

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.position[0], "next_batch": self.position[1], "seed": self.seed,
                "packing": self.packing, "rows": len(self._rows)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.position = (int(state_dict.get("epoch", 0)), int(state_dict.get("next_batch", 0)))
