"""Issue 23 point 1: the packing probe must pass in 16-bit (every GPU run loads bf16/fp16)."""

from __future__ import annotations

import pytest
import torch

from peftstudio.engine.packing import packing_supported

from ..engine.conftest import tiny_llama


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_packing_probe_passes_for_llama_in_each_dtype(dtype: torch.dtype) -> None:
    assert packing_supported(tiny_llama().to(dtype))


class Leaky(torch.nn.Module):
    """Ignores positions: a running mean lets the second example see the first."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(64, 8)
        self.config = type("C", (), {"vocab_size": 64})()

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor | None = None,
                use_cache: bool = False) -> object:
        h = self.emb(input_ids).cumsum(1) / torch.arange(1, input_ids.shape[1] + 1).view(1, -1, 1)
        return type("O", (), {"logits": h})()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_leaking_model_still_refused_in_16_bit(dtype: torch.dtype) -> None:
    assert not packing_supported(Leaky().to(dtype))
