"""Preview: examples rendered exactly as the model sees them, with the trained part marked.

Example:
    >>> from peftstudio.data.samples import sample_path
    >>> p = preview(sample_path("qa.csv"), None, n=1)
    >>> ex = p.examples[0]
    >>> [ex.text[s.start:s.end] for s in ex.spans if s.trained]
    ['Three.\\n']
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from peftstudio.data import template
from peftstudio.data.check import iter_examples, length_stats, open_plain, resolve_structure
from peftstudio.data.detect import Example
from peftstudio.data.findings import DataStats, Structure
from peftstudio.data.template import Span

#: Examples kept in memory to pick the preview from.
_POOL = 1000


@frozen
class PreviewExample:
    """One rendered example: `spans` cover `text` in order; `trained_tokens` of `tokens` count in the loss."""

    row: int
    text: str
    spans: tuple[Span, ...]
    tokens: int
    trained_tokens: int

    def marked(self, start: str = "[[", end: str = "]]") -> str:
        """The text with the trained parts wrapped in markers (for plain-text output)."""
        return "".join(f"{start}{self.text[s.start:s.end]}{end}" if s.trained else self.text[s.start:s.end]
                       for s in self.spans)


@frozen
class Preview:
    """A few examples as the model sees them, and token-length statistics of all usable ones.

    `stats` holds min, median, p95, max and a histogram (estimated without a tokenizer).
    """

    path: str
    structure: Structure
    examples: tuple[PreviewExample, ...]
    stats: DataStats


def _render(row: int, ex: Example, tokenizer: Any) -> PreviewExample:
    text, spans = template.render(ex, tokenizer)
    if tokenizer is None:
        trained = sum(s.end - s.start for s in spans if s.trained) // 4
        return PreviewExample(row, text, spans, template.estimate_tokens(ex), trained)
    ids, labels = template.tokenize(ex, tokenizer)
    return PreviewExample(row, text, spans, len(ids), sum(1 for x in labels if x != template.IGNORE_INDEX))


def preview(path: str | Path, tokenizer: Any, n: int = 3, *, mapping: Mapping[str, str] | None = None,
            structure: str | None = None) -> Preview:
    """`n` examples spread over the file, rendered with `tokenizer`'s chat template, and length statistics.

    With `tokenizer` None the plain ``### User:`` layout is shown and token counts are estimated.
    """
    source = open_plain(path)
    struct, _ = resolve_structure(source, mapping, structure)
    pool: list[tuple[int, Example]] = []
    lengths: array = array("q")  # type: ignore[type-arg]
    batch: list[str] = []
    for raw, ex, _problem, _detail in iter_examples(source, struct, strict_structure=not mapping):
        if ex is None:
            continue
        if len(pool) < _POOL:
            pool.append((raw.row, ex))
        if tokenizer is None:
            lengths.append(template.estimate_tokens(ex))
        else:
            batch.append(template.render(ex, tokenizer)[0])
            if len(batch) >= 256:
                lengths.extend(template.count_tokens(batch, tokenizer))
                batch.clear()
    if batch:
        lengths.extend(template.count_tokens(batch, tokenizer))
    step = max(1, len(pool) // max(1, n))
    chosen = pool[::step][: max(0, n)]
    stats = length_stats(lengths, estimated=tokenizer is None)
    return Preview(str(path), struct, tuple(_render(r, ex, tokenizer) for r, ex in chosen), stats)


__all__ = ["Preview", "PreviewExample", "preview"]
