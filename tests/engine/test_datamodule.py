"""The data module: seeded order, sharding, and an exact mid-epoch restart position."""

from __future__ import annotations

import pytest
import torch

from peftstudio.engine.datamodule import (
    POSITION_KEY,
    ResumableBatchSampler,
    TextDataModule,
    epoch_batches,
    epoch_order,
)

from .conftest import make_examples


@pytest.mark.parametrize(("n", "seed", "epoch"), [(10, 0, 0), (10, 0, 1), (7, 3, 5), (1, 9, 0)])
def test_epoch_order_is_a_seeded_permutation(n: int, seed: int, epoch: int) -> None:
    order = epoch_order(n, seed, epoch)
    assert sorted(order) == list(range(n))
    assert order == epoch_order(n, seed, epoch)


def test_epochs_differ_and_global_rng_is_untouched() -> None:
    state = torch.get_rng_state()
    assert epoch_order(20, 1, 0) != epoch_order(20, 1, 1)
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize(
    ("n", "size", "world", "per_rank"),
    [(10, 2, 1, 5), (10, 2, 2, 2), (11, 2, 2, 3), (3, 4, 2, 0), (8, 3, 3, 1)],
)
def test_ranks_get_equal_disjoint_batches(n: int, size: int, world: int, per_rank: int) -> None:
    shards = [epoch_batches(n, size, 0, 0, rank=r, world_size=world) for r in range(world)]
    assert all(len(s) == per_rank for s in shards)
    seen = [i for s in shards for batch in s for i in batch]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(("epoch", "start"), [(0, 0), (0, 3), (2, 1), (1, 4)])
def test_sampler_restarts_at_the_saved_position(epoch: int, start: int) -> None:
    full = ResumableBatchSampler(10, 2, seed=5)
    full.set_epoch(epoch)
    expected = list(full)[start:]
    resumed = ResumableBatchSampler(10, 2, seed=5, start=(epoch, start))
    assert list(resumed) == expected
    assert len(resumed) == 5  # the epoch's length does not change
    # only the first pass starts mid-epoch
    resumed.set_epoch(epoch + 1)
    full.set_epoch(epoch + 1)
    assert list(resumed) == list(full)


def test_datamodule_tracks_the_consumed_batch_not_the_prefetched_one() -> None:
    examples = make_examples(20)
    dm = TextDataModule(examples, examples[:4], micro_batch_size=2, sequence_length=16, pad_id=0)
    dm.setup("fit")
    it = iter(dm.train_dataloader())
    first, second = next(it), next(it)  # Lightning prefetches: the loader is ahead of the model
    dm.on_before_batch_transfer(first, 0)
    assert POSITION_KEY not in first
    assert dm.state_dict()["next_batch"] == 1
    dm.on_before_batch_transfer(second, 0)
    assert (dm.state_dict()["epoch"], dm.state_dict()["next_batch"]) == (0, 2)


def test_datamodule_resumes_with_the_same_batches() -> None:
    examples = make_examples(30)
    dm = TextDataModule(examples, [], micro_batch_size=2, sequence_length=24, pad_id=0, seed=3)
    dm.setup("fit")
    all_batches = [b["input_ids"].tolist() for b in dm.train_dataloader()]
    other = TextDataModule(examples, [], micro_batch_size=2, sequence_length=24, pad_id=0, seed=3)
    other.load_state_dict({"epoch": 0, "next_batch": 2})
    assert [b["input_ids"].tolist() for b in other.train_dataloader()] == all_batches[2:]


def test_end_of_epoch_position_moves_to_the_next_epoch() -> None:
    examples = make_examples(8, lengths=(10, 10))
    dm = TextDataModule(examples, [], micro_batch_size=2, sequence_length=10, pad_id=0, packing=False)
    dm.setup("fit")
    last = None
    for batch in dm.train_dataloader():
        last = batch
    dm.on_before_batch_transfer(last, 0)
    assert (dm.position) == (1, 0)


def test_packing_off_keeps_one_example_per_row() -> None:
    examples = make_examples(9)
    dm = TextDataModule(examples, [], micro_batch_size=3, sequence_length=64, pad_id=0, packing=False)
    assert dm.train_rows == 9 and dm.batches_per_epoch == 3
    batch = next(iter(dm.train_dataloader()))
    assert "attention_mask" in batch and batch["input_ids"].shape[0] == 3


def test_packing_on_fills_rows() -> None:
    examples = make_examples(40, lengths=(4, 8))
    dm = TextDataModule(examples, [], micro_batch_size=2, sequence_length=32, pad_id=0, packing=True)
    assert dm.train_rows < 40 / 3
    tokens = sum(int(b["token_count"]) for b in dm.train_dataloader())
    assert tokens == dm.useful_train_tokens


@pytest.mark.parametrize(("val_examples", "world"), [(2, 2), (3, 2), (5, 4), (9, 3)])
def test_validation_on_several_ranks_uses_every_batch_once_and_gives_the_single_rank_loss(val_examples: int,
                                                                                           world: int) -> None:
    from types import SimpleNamespace

    from peftstudio.engine.module import LoraModule
    from peftstudio.records import LoraSettings, TrainingSettings

    from .conftest import tiny_llama

    validation = make_examples(val_examples, seed=4)
    module = LoraModule(tiny_llama(), LoraSettings(rank=2, alpha=4), TrainingSettings()).eval()

    def batches(rank: int, size: int) -> list[dict[str, torch.Tensor]]:
        dm = TextDataModule(make_examples(8, seed=1), validation, micro_batch_size=2, sequence_length=32, pad_id=0,
                            packing=False)
        dm.trainer = SimpleNamespace(global_rank=rank, world_size=size)  # type: ignore[assignment]
        return list(dm.val_dataloader())

    def weighted(items: list[dict[str, torch.Tensor]]) -> tuple[float, int]:
        total, weight = 0.0, 0
        with torch.no_grad():
            for b in items:
                predicted = int((b["labels"][:, 1:] != -100).sum())
                if predicted:
                    total += float(module.loss(b)) * predicted
                    weight += predicted
        return total, weight

    per_rank = [batches(rank, world) for rank in range(world)]
    assert len({len(b) for b in per_rank}) == 1 and all(per_rank)  # every rank validates, as often as the others
    real = [b for rank in per_rank for b in rank if (b["labels"] != -100).any()]
    assert sum(len(b["input_ids"]) for b in real) == val_examples  # every example once
    one_total, one_weight = weighted(batches(0, 1))
    sums = [weighted(b) for b in per_rank]
    assert sum(w for _, w in sums) == one_weight
    assert abs(sum(t for t, _ in sums) / one_weight - one_total / one_weight) < 1e-5
