"""Packing: several tokenized examples share one row, each still seeing only itself.

A packed row holds examples back to back. Their `position_ids` restart at 0 for
every example, and with no `attention_mask` and no cache transformers derives a
block-diagonal causal mask from those positions (``find_packed_sequence_indices``),
so no example attends to another. The first label of each example is masked
(-100): unpacked, that token is never predicted either, so the loss is the same.
Rows in a micro-batch are right-padded with a padding *segment* whose positions
also restart, so padding forms its own block and never touches real tokens.

Example:
    >>> plan_rows([3, 4, 2, 5], capacity=8)
    [[0, 1], [2, 3]]
    >>> batch = collate_packed([[{"input_ids": [5, 6], "labels": [-100, 6]},
    ...                          {"input_ids": [7, 8, 9], "labels": [7, 8, 9]}]], pad_id=0)
    >>> batch["position_ids"].tolist()
    [[0, 1, 0, 1, 2]]
    >>> batch["labels"].tolist()
    [[-100, 6, -100, 8, 9]]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

IGNORE_INDEX = -100
Example = dict[str, Sequence[int]]


def plan_rows(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Group example indices into rows of at most `capacity` tokens, keeping the given order.

    A greedy next-fit over the (already shuffled) order: deterministic, O(n), and
    rows stay nearly full because examples are short compared with `capacity`.
    An example longer than `capacity` gets a row of its own (it was truncated upstream).

    Example:
        >>> plan_rows([5, 5, 5], capacity=10)
        [[0, 1], [2]]
    """
    if capacity <= 0:
        raise ValueError(f"capacity must be above 0, got {capacity}")
    rows: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, length in enumerate(lengths):
        if current and used + length > capacity:
            rows.append(current)
            current, used = [], 0
        current.append(index)
        used += length
    if current:
        rows.append(current)
    return rows


def collate_packed(rows: Sequence[Sequence[Example]], pad_id: int, *, flat: bool = False) -> dict[str, torch.Tensor]:
    """Tensors for a micro-batch of packed rows: input_ids, labels, position_ids, token_count.

    No attention_mask on purpose: transformers builds the block-diagonal mask from the
    restarting positions only when the mask is absent. `flat` lays the rows' tokens, in order, in a
    single row with no padding (for `engine.attention.segment_attention`): the same examples and the
    same loss, and no padding tokens to compute. It adds where each token sat in the padded rows
    (``row_index`` into the ``row_shape`` grid), from which `engine.dropout.RowDropout` draws the
    very dropout masks the padded rows would have had.

    Example:
        >>> rows = [[{"input_ids": [5, 6], "labels": [5, 6]}], [{"input_ids": [7], "labels": [7]}]]
        >>> collate_packed(rows, pad_id=0)["input_ids"].tolist()
        [[5, 6], [7, 0]]
        >>> flat = collate_packed(rows, pad_id=0, flat=True)
        >>> flat["position_ids"].tolist(), flat["row_index"].tolist(), flat["row_shape"].tolist()
        ([[0, 1, 0]], [0, 1, 2], [2, 2])
    """
    ids_rows: list[list[int]] = []
    label_rows: list[list[int]] = []
    pos_rows: list[list[int]] = []
    for row in rows:
        ids: list[int] = []
        labels: list[int] = []
        pos: list[int] = []
        for example in row:
            n = len(example["input_ids"])
            ids.extend(int(t) for t in example["input_ids"])
            ex_labels = [int(t) for t in example["labels"]]
            ex_labels[0] = IGNORE_INDEX  # never predicted (it would be predicted from the previous example)
            labels.extend(ex_labels)
            pos.extend(range(n))
        ids_rows.append(ids)
        label_rows.append(labels)
        pos_rows.append(pos)
    width = max(len(r) for r in ids_rows)
    real = sum(len(r) for r in ids_rows)
    if flat:
        return {
            "input_ids": torch.tensor([[t for r in ids_rows for t in r]], dtype=torch.long),
            "labels": torch.tensor([[t for r in label_rows for t in r]], dtype=torch.long),
            "position_ids": torch.tensor([[t for r in pos_rows for t in r]], dtype=torch.long),
            "token_count": torch.tensor(real, dtype=torch.long),
            "row_index": torch.tensor([i * width + j for i, r in enumerate(ids_rows) for j in range(len(r))]),
            "row_shape": torch.tensor([len(ids_rows), width]),
        }
    for ids, labels, pos in zip(ids_rows, label_rows, pos_rows, strict=True):
        pad = width - len(ids)
        ids.extend([pad_id] * pad)
        labels.extend([IGNORE_INDEX] * pad)
        pos.extend(range(pad))  # a padding segment of its own
    return {
        "input_ids": torch.tensor(ids_rows, dtype=torch.long),
        "labels": torch.tensor(label_rows, dtype=torch.long),
        "position_ids": torch.tensor(pos_rows, dtype=torch.long),
        "token_count": torch.tensor(real, dtype=torch.long),
    }


def collate_padded(examples: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Tensors for a micro-batch of separate examples, right-padded, with an attention mask.

    Example:
        >>> b = collate_padded([{"input_ids": [1, 2, 3], "labels": [1, 2, 3]},
        ...                     {"input_ids": [4], "labels": [4]}], pad_id=0)
        >>> b["attention_mask"].tolist()
        [[1, 1, 1], [1, 0, 0]]
    """
    width = max(len(e["input_ids"]) for e in examples)
    ids, labels, mask = [], [], []
    for e in examples:
        n = len(e["input_ids"])
        pad = width - n
        ids.append([int(t) for t in e["input_ids"]] + [pad_id] * pad)
        labels.append([int(t) for t in e["labels"]] + [IGNORE_INDEX] * pad)
        mask.append([1] * n + [0] * pad)
    attention = torch.tensor(mask, dtype=torch.long)
    return {
        "input_ids": torch.tensor(ids, dtype=torch.long),
        "labels": torch.tensor(labels, dtype=torch.long),
        "attention_mask": attention,
        "token_count": attention.sum(),
    }


#: Allowed difference between packed and separate logits, per compute dtype, as a share of the
#: logits' size (at least 1). 16-bit rounding alone moves logits by about 1e-2 (bf16 keeps 8 bits of
#: mantissa): a fp32 tolerance would turn packing off on every GPU run. Leaking attention moves
#: them by far more (the probe's second example sees a whole other example).
PACKING_TOLERANCE = {torch.float32: 1e-4, torch.float64: 1e-6, torch.bfloat16: 5e-2, torch.float16: 5e-2}


def probe_tolerance(dtype: torch.dtype) -> float:
    """The packing probe's relative tolerance for a model computing in `dtype`.

    Example:
        >>> probe_tolerance(torch.float32), probe_tolerance(torch.bfloat16)
        (0.0001, 0.05)
    """
    return PACKING_TOLERANCE.get(dtype, 5e-2)


def packing_supported(model: torch.nn.Module, *, vocab_size: int | None = None, atol: float | None = None) -> bool:
    """Whether `model` keeps packed examples apart: a two-example probe, packed vs. separate.

    Models whose attention ignores restarting positions (some remote-code models) would let
    examples attend to each other; for them packing must stay off. The tolerance follows the
    model's dtype (`probe_tolerance`), scaled by the size of its logits; `atol` overrides it.
    """
    vocab = int(vocab_size or getattr(getattr(model, "config", None), "vocab_size", 0) or 32)
    gen = torch.Generator().manual_seed(0)
    a = torch.randint(3, max(vocab, 4), (5,), generator=gen).tolist()
    b = torch.randint(3, max(vocab, 4), (4,), generator=gen).tolist()
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            param = next(model.parameters())
            device = param.device
            packed = collate_packed([[{"input_ids": a, "labels": a}, {"input_ids": b, "labels": b}]], pad_id=0)
            out = model(input_ids=packed["input_ids"].to(device), position_ids=packed["position_ids"].to(device),
                        use_cache=False).logits[0].float()
            sep_b = model(input_ids=torch.tensor([b], device=device), use_cache=False).logits[0].float()
            sep_a = model(input_ids=torch.tensor([a], device=device), use_cache=False).logits[0].float()
    except Exception:  # noqa: BLE001 - a model that rejects position_ids (any error) cannot pack
        return False
    finally:
        model.train(was_training)
    if atol is None:
        scale = max(1.0, float(sep_a.abs().max()), float(sep_b.abs().max()))
        atol = probe_tolerance(param.dtype) * scale
    return bool(torch.allclose(out[:5], sep_a, atol=atol, rtol=0)
                and torch.allclose(out[5:], sep_b, atol=atol, rtol=0))
