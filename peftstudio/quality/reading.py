"""Reading a batch of prompts once, and answering it greedily with less work than ``generate``.

The checks ask many prompts that start alike (a chat template's system prompt: 24 of the 37 tokens of a
SmolLM2 general question) and whose answers vary a lot in length (the tuned SmolLM2's answers to the 40
general questions run from 2 to 32 tokens, half of them under 11). `read_prompts` reads what every prompt
starts with once (`read_prefix`) and copies its key/value cache to each row, so only each prompt's own
tokens go through the model: on SmolLM2 the 40 questions are read in 1.4 s instead of 3.4 s.
`greedy_tokens` then runs the steps ``generate(do_sample=False)`` runs, one token per step, and drops a row
from the batch and its cache as soon as it ends. Each row gets the tokens ``generate`` gives it (tested token
for token in every family, with and without a shared start; the real SmolLM2's 40 + 16 answers of the checks
are identical).

A start is shared only by models with full-attention layers alone (a sliding window counts cache entries,
not positions, and would see a copied start farther than it is). A row is dropped only from a cache whose
rows can be dropped; linear attention's (Qwen3.5) keeps an ended row to the end, fed padding as
``generate`` feeds it, and the prompts are still read once, not once here and again in ``generate``.
`greedy_tokens` needs a cache of the kinds it knows (`SERVED_LAYERS`) and generation settings that change
no scores (no repetition penalty, banned words, minimum length). Otherwise it returns None and the caller
asks ``generate``.

Example:
    >>> import torch
    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
    ...     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2)).eval()
    >>> prompts = [[5, 6], [7, 8, 9]]
    >>> with torch.no_grad():
    ...     ours = greedy_tokens(model, prompts, pad=0, device="cpu", max_new_tokens=4, stops={3})
    ...     ids, mask = left_padded(prompts, 0, "cpu")
    ...     theirs = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=4, do_sample=False,
    ...                             pad_token_id=0, eos_token_id=3)
    >>> [row[:len(mine)] for row, mine in zip(theirs[:, 3:].tolist(), ours)] == ours
    True
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Collection, Sequence
from typing import Any

MIN_PREFIX = 8  # tokens all the prompts start with, at least, to read them once for all
#: Key/value cache layers whose rows can be copied and dropped; a Dummy layer holds nothing (Gemma 4's layers
#: that reuse an earlier layer's keys and values).
COPYABLE_LAYERS = frozenset({"DynamicLayer", "DynamicSlidingWindowLayer", "DummyLayer"})
#: Layers `greedy_tokens` answers with: the copyable ones, and linear attention's (Qwen3.5), whose rows stay in
#: the batch to the end, as in ``generate``. A cache with any other layer goes to ``generate``.
SERVED_LAYERS = COPYABLE_LAYERS | {"LinearAttentionLayer"}
#: Generation settings that leave greedy scores alone, at their neutral values (anything else: ``generate``).
NEUTRAL = {"repetition_penalty": (None, 1.0), "no_repeat_ngram_size": (None, 0), "bad_words_ids": (None,),
           "min_length": (None, 0), "min_new_tokens": (None, 0), "suppress_tokens": (None,),
           "begin_suppress_tokens": (None,), "forced_bos_token_id": (None,), "forced_eos_token_id": (None,),
           "sequence_bias": (None,), "exponential_decay_length_penalty": (None,), "num_beams": (None, 1),
           "guidance_scale": (None, 1.0), "renormalize_logits": (None, False)}


def cache_input(model: Any, cache: Any) -> dict[str, Any]:
    """The keyword argument that hands `model`'s forward a key/value cache: ``cache`` in transformers 5.2x and
    later (``past_key_values`` is deprecated there and goes in 5.40), ``past_key_values`` in earlier versions
    and in models whose code names it so.

    Example:
        >>> from transformers import LlamaConfig, LlamaForCausalLM
        >>> model = LlamaForCausalLM(LlamaConfig(vocab_size=8, hidden_size=8, intermediate_size=8,
        ...     num_hidden_layers=1, num_attention_heads=1, num_key_value_heads=1))
        >>> list(cache_input(model, None)) == [_cache_keyword(LlamaForCausalLM)]
        True
    """
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # a PEFT model passes it on
    kind: Any = type(inner)
    return {_cache_keyword(kind): cache}


@functools.cache
def _cache_keyword(kind: Any) -> str:
    try:
        names = inspect.signature(kind.forward).parameters
    except (TypeError, ValueError):  # no signature to read: the older, still accepted name
        return "past_key_values"
    return "cache" if "cache" in names else "past_key_values"


def cache_of(output: Any) -> Any:
    """The key/value cache a model's forward returned (``cache``; ``past_key_values`` before transformers 5.2x),
    without the deprecation warning the old name gives."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


def left_padded(rows: Sequence[list[int]], pad: int, device: Any) -> tuple[Any, Any]:
    """(input ids, attention mask) of token rows padded on the left to the longest, so that they all end together.

    Example:
        >>> [t.tolist() for t in left_padded([[5], [6, 7]], 0, "cpu")]
        [[[0, 5], [6, 7]], [[0, 1], [1, 1]]]
    """
    import torch

    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
    return ids, mask


def copyable(cache: Any, kinds: frozenset[str] = COPYABLE_LAYERS) -> bool:
    """Whether a key/value cache's rows can be copied and dropped one by one: all its layers of `kinds`."""
    layers = list(getattr(cache, "layers", None) or [])
    return bool(layers) and all(type(layer).__name__ in kinds for layer in layers)


def read_prefix(model: Any, prompts: Sequence[list[int]], device: Any) -> tuple[int, Any] | None:
    """The tokens all `prompts` start with, read once: (how many, the model's cache of them for one row); None
    when they share fewer than `MIN_PREFIX` tokens or the model has layers other than full attention. Every
    prompt keeps at least one token of its own."""
    import torch

    n, shortest = 0, min(len(p) for p in prompts)
    while n < shortest - 1 and all(p[n] == prompts[0][n] for p in prompts):
        n += 1
    if n < MIN_PREFIX:
        return None
    cache = cache_of(model(input_ids=torch.tensor([prompts[0][:n]], device=device), use_cache=True,
                           logits_to_keep=1))
    # padding then sits between the prefix and each prompt's own tokens: a sliding window, which counts
    # cache entries rather than positions, would see the prefix farther than it is
    return (n, cache) if copyable(cache, frozenset({"DynamicLayer"})) else None


def read_prompts(model: Any, prompts: Sequence[list[int]], pad: int, device: Any, *,
                 prefix: tuple[int, Any] | None = None) -> tuple[Any, Any]:
    """The model's output after reading `prompts` (its cache and each row's last logits) and the attention mask
    of what it read. With `prefix` (`read_prefix`) the rows are [prefix][padding][the prompt's own tokens]: the
    prefix's cache is copied to each row, the padding masked, and the positions run on past it."""
    import torch

    if prefix is None:
        ids, mask = left_padded(prompts, pad, device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                     logits_to_keep=1), mask
    length, kept = prefix
    cache = copy.deepcopy(kept)
    cache.batch_repeat_interleave(len(prompts))
    ids, own = left_padded([p[length:] for p in prompts], pad, device)
    mask = torch.cat([torch.ones(len(prompts), length, dtype=own.dtype, device=device), own], dim=1)
    positions = length + (own.cumsum(-1) - 1).clamp(min=0)
    return model(input_ids=ids, attention_mask=mask, position_ids=positions, **cache_input(model, cache),
                 use_cache=True, logits_to_keep=1), mask


def plain_greedy(model: Any) -> bool:
    """Whether greedy decoding of `model` is the argmax of its next-token scores, step after step."""
    config = getattr(model, "generation_config", None)
    return all(getattr(config, key, None) in neutral for key, neutral in NEUTRAL.items())


def greedy_tokens(model: Any, prompts: Sequence[list[int]], *, pad: int, device: Any, max_new_tokens: int,
                  stops: Collection[int]) -> list[list[int]] | None:
    """Each prompt's greedy new tokens, up to and including its first stop token or `max_new_tokens` of them;
    None when `model` needs ``generate`` (module docstring). Call it under ``torch.no_grad()``."""
    import torch

    if not plain_greedy(model) or max_new_tokens < 1 or not prompts:
        return None
    out, mask = read_prompts(model, prompts, pad, device, prefix=read_prefix(model, prompts, device))
    cache = cache_of(out)
    if not copyable(cache, SERVED_LAYERS):
        return None
    droppable = copyable(cache)  # otherwise (linear attention) an ended row stays, fed padding as generate does
    tokens: list[list[int]] = [[] for _ in prompts]
    live = torch.arange(len(prompts), device=device)
    done = torch.zeros(len(prompts), dtype=torch.bool, device=device)  # ended rows still in the batch
    position = mask.sum(-1, keepdim=True)  # of the next token
    for step in range(max_new_tokens):
        chosen = out.logits[:, -1].argmax(-1)
        ended = set()
        for j, (row, token, over) in enumerate(zip(live.tolist(), chosen.tolist(), done.tolist(), strict=True)):
            if over:
                continue
            tokens[row].append(token)
            if token in stops:
                ended.add(j)
        if step == max_new_tokens - 1 or len(ended) + int(done.sum()) == len(live):
            break
        if ended and droppable:
            keep = torch.tensor([j for j in range(len(live)) if j not in ended], device=device)
            cache.batch_select_indices(keep)
            live, chosen, mask, position, done = live[keep], chosen[keep], mask[keep], position[keep], done[keep]
        elif ended:
            done[list(ended)] = True
        chosen = chosen.masked_fill(done, pad)
        mask = torch.cat([mask, mask.new_ones(len(live), 1)], dim=1)
        out = model(input_ids=chosen[:, None], attention_mask=mask, position_ids=position,
                    **cache_input(model, cache), use_cache=True)
        position = position + 1
    return tokens


__all__ = ["COPYABLE_LAYERS", "MIN_PREFIX", "SERVED_LAYERS", "cache_input", "cache_of", "copyable", "greedy_tokens",
           "left_padded", "plain_greedy", "read_prefix", "read_prompts"]
