"""The training loss computed only where it counts: output logits for the predicted tokens alone.

A causal LM's output layer turns every position's hidden state into one score per vocabulary word
(49,152 for SmolLM2), and the usual loss then throws most of them away: prompt tokens, the system
message and padding are masked out (``-100``) and never predicted. `causal_lm_loss` runs the model's
body, keeps the hidden states of the positions whose next token is predicted, and applies the output
layer and the cross-entropy to those only. The loss is the same mean over predicted tokens that
transformers computes (tested to float tolerance); the output layer's work, a fifth of a small model's
compute, shrinks by the masked share (often half of a chat example).

It applies to the plain decoder families whose output is just ``lm_head(hidden)``; any other model
(logit soft-capping, logit scaling, extra losses) is left to compute its own loss.

Example:
    >>> import torch
    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
    ...     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2)).eval()
    >>> batch = {"input_ids": torch.tensor([[5, 6, 7, 8]]), "labels": torch.tensor([[-100, -100, 7, 8]])}
    >>> ours = causal_lm_loss(model, batch)
    >>> theirs = model(**batch, use_cache=False).loss
    >>> bool(torch.allclose(ours, theirs, atol=1e-6))
    True
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100
#: Model families whose logits are exactly ``lm_head(final hidden state)`` (no scaling or capping).
PLAIN_HEADS = frozenset({"llama", "mistral", "qwen2", "qwen3", "phi3"})
BODY_INPUTS = ("input_ids", "attention_mask", "position_ids")


def _parts(model: Any) -> tuple[Any, Any] | None:
    """(decoder body, output layer) of a plain causal LM, through a PEFT wrapper; None otherwise."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = getattr(base, "config", None)
    if config is None or getattr(config, "model_type", None) not in PLAIN_HEADS:
        return None
    if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None):
        return None
    body, head = getattr(base, "model", None), getattr(base, "lm_head", None)
    if body is None or not isinstance(head, torch.nn.Module):
        return None
    return body, head


def supports_selective_loss(model: Any) -> bool:
    """Whether `causal_lm_loss` computes `model`'s loss itself (else it asks the model for it)."""
    return _parts(model) is not None


def causal_lm_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean next-token cross-entropy over the batch's predicted tokens (labels other than -100).

    `batch` holds ``input_ids`` and ``labels`` (and ``attention_mask`` or ``position_ids`` for padded or
    packed rows). For models outside `PLAIN_HEADS` this is simply the model's own loss.
    """
    parts = _parts(model)
    inputs = {k: batch[k] for k in BODY_INPUTS if k in batch}
    if parts is None:
        return model(**inputs, labels=batch["labels"], use_cache=False).loss  # type: ignore[no-any-return]
    body, head = parts
    hidden = body(**inputs, use_cache=False).last_hidden_state
    target = batch["labels"][:, 1:]
    keep = target != IGNORE_INDEX
    logits = head(hidden[:, :-1][keep]).float()  # position t predicts token t + 1
    return F.cross_entropy(logits, target[keep], reduction="mean")


__all__ = ["PLAIN_HEADS", "causal_lm_loss", "supports_selective_loss"]
