"""Padding-free packing on the CPU (issue 21): a micro-batch in one row, attention one example at a time.

In every family that packs, the one-row layout with `segment_attention` gives the padded rows' loss and
gradients to float precision; anything that is not one packed row is plain SDPA.
"""

from __future__ import annotations

import random

import pytest
import torch

from peftstudio.engine.attention import SEGMENTS, restore_attention, segment_attention, use_segment_attention
from peftstudio.engine.loss import causal_lm_loss
from peftstudio.engine.packing import collate_packed
from peftstudio.engine.trainer import packing_layout
from tests.family_models import FAMILIES, tiny_model

#: Families that do not pack at all: Qwen3.5's linear attention ignores restarting positions, gpt-oss's
#: sinks need eager attention.
NO_PACKING = {"qwen3_5", "gpt_oss"}


def _rows(seed: int = 0) -> list[list[dict[str, list[int]]]]:
    rng = random.Random(seed)

    def example(n: int) -> dict[str, list[int]]:
        ids = [rng.randrange(3, 500) for _ in range(n)]
        return {"input_ids": ids, "labels": [-100] * 3 + ids[3:]}

    # Gemma's tiny sliding window is 16 tokens: examples longer than it take SDPA's mask in those layers
    return [[example(9), example(20)], [example(25)], [example(5), example(7), example(12)]]


def _loss_and_grads(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[float, list[torch.Tensor]]:
    model.zero_grad()
    loss = causal_lm_loss(model, batch)
    loss.backward()
    return float(loss), [p.grad.clone() for p in model.parameters() if p.grad is not None]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_one_row_gives_the_padded_rows_loss_and_gradients(family: str) -> None:
    model = tiny_model(family)
    packing, flat = packing_layout(model, True, cuda=False)
    assert (packing, flat) == ((False, False) if family in NO_PACKING else (True, True)), family
    if not flat:
        assert model.config._attn_implementation != SEGMENTS
        return
    one_row = {k: v for k, v in collate_packed(_rows(), pad_id=0, flat=True).items() if k != "token_count"}
    loss, grads = _loss_and_grads(model, one_row)
    restore_attention(model)
    padded = {k: v for k, v in collate_packed(_rows(), pad_id=0).items() if k != "token_count"}
    assert padded["input_ids"].shape[0] == 3 and one_row["input_ids"].shape[0] == 1
    want_loss, want_grads = _loss_and_grads(model, padded)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    for got, want in zip(grads, want_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_anything_but_one_packed_row_is_plain_sdpa() -> None:
    """Padded rows with a mask, or a single example: the same logits as SDPA itself."""
    model = tiny_model("llama").eval()
    ids = torch.randint(3, 500, (2, 12), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).logits
        assert use_segment_attention(model)
        got = model(input_ids=ids, attention_mask=mask).logits
        single = model(input_ids=ids[:1]).logits
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(single, want[:1])


def test_a_sliding_window_shorter_than_an_example_keeps_the_window() -> None:
    """Two examples of 20 tokens in one row, a window of 16: each must still see only its last 16 tokens."""
    model = tiny_model("gemma3").eval()
    ids = torch.randint(3, 500, (1, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        alone = model(input_ids=ids).logits
        assert use_segment_attention(model)
        packed = model(input_ids=ids.repeat(1, 2), position_ids=torch.arange(20).repeat(1, 2), use_cache=False).logits
    torch.testing.assert_close(packed[:, 20:], alone, rtol=1e-4, atol=1e-4)


def test_segment_attention_splits_only_a_single_packed_row() -> None:
    module = torch.nn.Module()
    q = torch.randn(1, 2, 6, 4)
    positions = torch.tensor([[0, 1, 2, 0, 1, 2]])
    block = torch.zeros(6, 6, dtype=torch.bool)
    block[:3, :3] = block[3:, 3:] = True
    mask = block.tril()[None, None]  # what transformers passes for one packed row: the block-diagonal mask
    split, _ = segment_attention(module, q, q, q, mask, position_ids=positions)
    masked, _ = segment_attention(module, q, q, q, mask, position_ids=torch.arange(6)[None])  # no restart: SDPA
    torch.testing.assert_close(split, masked)
    first, _ = segment_attention(module, q[:, :, :3], q[:, :, :3], q[:, :, :3], None, is_causal=True)
    torch.testing.assert_close(split[:, :3], first)
