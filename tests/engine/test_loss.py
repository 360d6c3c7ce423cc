"""The selective loss (logits only for predicted tokens) equals the model's own loss, and so do its gradients."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from peftstudio.engine.loss import causal_lm_loss, supports_selective_loss
from peftstudio.engine.module import apply_lora
from peftstudio.engine.packing import collate_packed, collate_padded
from peftstudio.records import LoraSettings

from .conftest import make_examples, tiny_llama


def _batches() -> dict[str, dict[str, torch.Tensor]]:
    examples = make_examples(6, seed=11)
    return {"padded": collate_padded(examples, pad_id=0),
            "packed": collate_packed([examples[:3], examples[3:]], pad_id=0)}


def _own_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    inputs = {k: batch[k] for k in ("input_ids", "labels", "attention_mask", "position_ids") if k in batch}
    return model(**inputs, use_cache=False).loss


@pytest.mark.parametrize("kind", ["padded", "packed"])
def test_selective_loss_and_gradients_equal_the_models_own(kind: str) -> None:
    batch = _batches()[kind]
    model = apply_lora(tiny_llama(), LoraSettings(rank=4, alpha=8, dropout=0.0, target_modules=("q_proj", "v_proj")))
    assert supports_selective_loss(model)
    ours = causal_lm_loss(model, batch)
    ours.backward()
    ours_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    theirs = _own_loss(model, batch)
    theirs.backward()
    assert float(ours) == pytest.approx(float(theirs), rel=1e-6, abs=1e-7)
    for name, p in model.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(ours_grads[name], p.grad, rtol=1e-5, atol=1e-7)


def test_models_with_other_output_layers_compute_their_own_loss() -> None:
    model = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=32, n_layer=1, n_head=2, n_positions=64))
    model.eval()
    assert not supports_selective_loss(model)
    batch = _batches()["padded"]
    assert float(causal_lm_loss(model, batch)) == pytest.approx(float(_own_loss(model, batch)), rel=1e-6)


def test_soft_capped_logits_are_left_to_the_model() -> None:
    model = tiny_llama()
    model.config.final_logit_softcapping = 30.0
    assert not supports_selective_loss(model)


def test_the_base_validation_loss_through_the_selective_loss_is_the_models_own() -> None:
    """The base model's validation loss (before the first step) now takes the selective path: same value."""
    from types import SimpleNamespace

    from peftstudio.callbacks.overfitting import base_validation_loss
    from peftstudio.engine.module import LoraModule
    from peftstudio.records import TrainingSettings

    batches = list(_batches().values())
    module = LoraModule(tiny_llama(), LoraSettings(rank=4, alpha=8, dropout=0.0), TrainingSettings())
    trainer = SimpleNamespace(datamodule=SimpleNamespace(val_dataloader=lambda: batches), world_size=1)
    loss, tokens = base_validation_loss(trainer, module)  # type: ignore[arg-type]
    assert module.training  # left as it was found
    module.eval()
    weights = [int((b["labels"][:, 1:] != -100).sum()) for b in batches]
    with torch.no_grad():
        own = sum(float(_own_loss(module.model, b)) * w for b, w in zip(batches, weights, strict=True))
    assert tokens == sum(weights)
    assert loss == pytest.approx(own / sum(weights), rel=1e-6)
