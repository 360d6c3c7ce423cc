"""LoRA dropout that draws, for a micro-batch laid in one row, the masks its padded rows would have had.

`collate_packed(..., flat=True)` puts a micro-batch's packed rows in one row with no padding. PyTorch's
dropout draws one random number per element of its input, so on the shorter input it would draw other
masks, and the same seed would no longer give the same loss curve. `RowDropout` draws the mask over the
padded rows' grid, exactly as ``nn.Dropout`` does on those rows, and keeps the entries of the real tokens:
every token gets the very mask it had, and the run's losses match the padded layout's to float precision.
Without a layout (validation, generation, other callers) it is plain ``nn.Dropout``.

Example:
    >>> import torch
    >>> layout = RowLayout()
    >>> drop = RowDropout(0.5, layout).train()
    >>> x = torch.ones(1, 3, 2)  # rows [[a, b], [c, pad]] laid as [a, b, c]
    >>> layout.set({"row_index": torch.tensor([0, 1, 2]), "row_shape": torch.tensor([2, 2])})
    >>> _ = torch.manual_seed(0); flat = drop(x)
    >>> _ = torch.manual_seed(0); rows = torch.nn.functional.dropout(torch.ones(2, 2, 2), 0.5)
    >>> bool(torch.equal(flat[0], rows.reshape(4, 2)[:3]))
    True
"""

from __future__ import annotations

from typing import Any

import torch


class RowLayout:
    """Where the tokens of the current training micro-batch sat in its padded rows (set each step)."""

    def __init__(self) -> None:
        self.index: torch.Tensor | None = None
        self.shape: tuple[int, int] | None = None

    def set(self, batch: dict[str, Any]) -> None:
        """Take the layout of `batch` (``row_index``, ``row_shape``), or none when it has none."""
        index, shape = batch.get("row_index"), batch.get("row_shape")
        self.index = index
        self.shape = None if shape is None else (int(shape[0]), int(shape[1]))


class RowDropout(torch.nn.Dropout):
    """``nn.Dropout`` that follows a `RowLayout`: masks drawn over the padded rows (module docstring)."""

    def __init__(self, p: float, layout: RowLayout) -> None:
        super().__init__(p)
        self.layout = layout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index, shape = self.layout.index, self.layout.shape
        if not self.training or self.p == 0 or index is None or shape is None or x.dim() != 3 \
                or x.shape[:2] != (1, index.numel()):
            return super().forward(x)
        # what torch's CPU dropout computes on the padded rows: noise = bernoulli(1 - p) / (1 - p); x * noise
        noise = x.new_empty((shape[0] * shape[1], x.shape[-1])).bernoulli_(1 - self.p)
        noise.div_(1 - self.p)
        return x * noise[index.to(x.device)].unsqueeze(0)


def use_row_dropout(model: torch.nn.Module) -> RowLayout:
    """Replace the LoRA dropouts of a PEFT `model` by `RowDropout`s sharing one `RowLayout`, returned."""
    layout = RowLayout()
    for module in model.modules():
        drops = getattr(module, "lora_dropout", None)
        if not isinstance(drops, torch.nn.ModuleDict):
            continue
        for name, drop in list(drops.items()):
            if type(drop) is torch.nn.Dropout:
                drops[name] = RowDropout(drop.p, layout)
    return layout


__all__ = ["RowDropout", "RowLayout", "use_row_dropout"]
