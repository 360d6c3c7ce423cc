"""Packing: rows, collation, and the packed loss equal to the unpacked loss."""

from __future__ import annotations

import pytest
import torch

from peftstudio.engine.packing import (
    IGNORE_INDEX,
    collate_packed,
    collate_padded,
    packing_supported,
    plan_rows,
)

from .conftest import make_examples, tiny_llama


@pytest.mark.parametrize(
    ("lengths", "capacity", "rows"),
    [
        ([3, 4, 2, 5], 8, [[0, 1], [2, 3]]),
        ([8, 8], 8, [[0], [1]]),
        ([10, 1], 8, [[0], [1]]),  # too long: a row of its own
        ([1, 1, 1, 1], 2, [[0, 1], [2, 3]]),
        ([], 8, []),
    ],
)
def test_plan_rows(lengths: list[int], capacity: int, rows: list[list[int]]) -> None:
    assert plan_rows(lengths, capacity) == rows


def test_plan_rows_never_overfills_and_keeps_every_example() -> None:
    lengths = [len(e["input_ids"]) for e in make_examples(200, seed=5)]
    rows = plan_rows(lengths, 32)
    assert sorted(i for row in rows for i in row) == list(range(200))
    assert all(sum(lengths[i] for i in row) <= 32 for row in rows)


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        plan_rows([1], 0)


def test_collate_packed_restarts_positions_and_masks_boundaries() -> None:
    rows = [[{"input_ids": [5, 6, 7], "labels": [5, 6, 7]}, {"input_ids": [8, 9], "labels": [8, 9]}],
            [{"input_ids": [10], "labels": [10]}]]
    b = collate_packed(rows, pad_id=0)
    assert b["position_ids"].tolist() == [[0, 1, 2, 0, 1], [0, 0, 1, 2, 3]]
    assert b["labels"].tolist() == [[IGNORE_INDEX, 6, 7, IGNORE_INDEX, 9], [IGNORE_INDEX] * 5]
    assert b["input_ids"].tolist()[1] == [10, 0, 0, 0, 0]
    assert int(b["token_count"]) == 6
    assert "attention_mask" not in b  # transformers derives the block-diagonal mask from the positions


def test_collate_padded() -> None:
    b = collate_padded([{"input_ids": [1, 2], "labels": [-100, 2]}, {"input_ids": [3], "labels": [3]}], pad_id=9)
    assert b["input_ids"].tolist() == [[1, 2], [3, 9]]
    assert b["labels"].tolist() == [[-100, 2], [3, IGNORE_INDEX]]
    assert int(b["token_count"]) == 3


@pytest.mark.parametrize("per_row", [2, 3, 5])
def test_packed_loss_equals_unpacked_loss(per_row: int) -> None:
    model = tiny_llama()
    model.eval()
    examples = make_examples(10, seed=3)
    rows = [examples[i:i + per_row] for i in range(0, len(examples), per_row)]
    packed = collate_packed(rows, pad_id=0)
    padded = collate_padded(examples, pad_id=0)
    with torch.no_grad():
        loss_packed = model(input_ids=packed["input_ids"], labels=packed["labels"],
                            position_ids=packed["position_ids"], use_cache=False).loss
        loss_padded = model(input_ids=padded["input_ids"], labels=padded["labels"],
                            attention_mask=padded["attention_mask"], use_cache=False).loss
    assert float(loss_packed) == pytest.approx(float(loss_padded), rel=1e-5, abs=1e-6)


def test_packed_logits_match_each_example_alone() -> None:
    model = tiny_llama()
    model.eval()
    a, b = make_examples(2, seed=4)
    packed = collate_packed([[a, b]], pad_id=0)
    with torch.no_grad():
        together = model(input_ids=packed["input_ids"], position_ids=packed["position_ids"], use_cache=False).logits
        alone = model(input_ids=torch.tensor([b["input_ids"]]), use_cache=False).logits
    n = len(a["input_ids"])
    torch.testing.assert_close(together[0, n:], alone[0], rtol=1e-4, atol=1e-5)


def test_packing_supported_for_llama() -> None:
    assert packing_supported(tiny_llama())


def test_packing_not_supported_when_attention_crosses_examples() -> None:
    class Leaky(torch.nn.Module):
        """A causal model that ignores positions: the running mean lets example b see example a."""

        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(64, 8)
            self.config = type("C", (), {"vocab_size": 64})()

        def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor | None = None,
                    use_cache: bool = False) -> object:
            h = self.emb(input_ids).cumsum(1) / torch.arange(1, input_ids.shape[1] + 1).view(1, -1, 1)
            return type("O", (), {"logits": h})()

    assert not packing_supported(Leaky())
