"""Quick dataset statistics for planning when only a file path is known.

The data check (`peftstudio.data`) measures token lengths with the model's own tokenizer. For a
quick plan this module reads JSONL, JSON, CSV/TSV and plain text files directly and estimates
tokens from characters (about 4 characters per token for English
with today's tokenizers, plus a few tokens of chat-template markup per message).

Example:
    >>> import json, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "chat.jsonl")
    >>> with open(path, "w") as fh:
    ...     for i in range(10):
    ...         row = {"messages": [{"role": "user", "content": "hi " * 20},
    ...                             {"role": "assistant", "content": "hello " * 40}]}
    ...         _ = fh.write(json.dumps(row) + "\\n")
    >>> stats = stats_for_file(path)
    >>> stats.rows, stats.tokens_min == stats.tokens_max
    (10, True)
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from peftstudio.errors import make
from peftstudio.records.data import DatasetStats

CHARS_PER_TOKEN = 4.0
TOKENS_PER_MESSAGE = 4  # role markers and separators of a chat template


def _text_and_messages(value: Any) -> tuple[int, int]:
    """(characters of text, number of messages) in a row of any shape."""
    if isinstance(value, str):
        return len(value), 0
    if isinstance(value, dict):
        chars, msgs = 0, 1 if ("content" in value or "value" in value) else 0
        for v in value.values():
            c, m = _text_and_messages(v)
            chars, msgs = chars + c, msgs + m
        return chars, msgs
    if isinstance(value, list):
        chars = msgs = 0
        for v in value:
            c, m = _text_and_messages(v)
            chars, msgs = chars + c, msgs + m
        return chars, msgs
    return (len(str(value)), 0) if value is not None else (0, 0)


def _rows(path: Path) -> Iterator[Any]:
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if suffix == ".jsonl":
        for line in text.splitlines():
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    continue  # the data check reports broken lines; planning only needs sizes
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            return
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), [data])
        yield from data if isinstance(data, list) else [data]
    elif suffix in (".csv", ".tsv"):
        yield from csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
    else:  # plain text: one example per blank-line-separated block
        yield from (block for block in text.split("\n\n") if block.strip())


def _percentile(sorted_values: list[int], q: float) -> int:
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


def approximate_stats(path: str | Path) -> DatasetStats:
    """Row count and approximate token lengths of a data file, without a tokenizer."""
    file = Path(path)
    if not file.is_file():
        raise make("file_not_found", path=str(file))
    lengths = []
    for row in _rows(file):
        chars, messages = _text_and_messages(row)
        lengths.append(max(1, math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * max(messages, 1)))
    if not lengths:
        raise make("dataset_invalid", summary=f"{file.name} holds no examples PEFT Studio can read.")
    lengths.sort()
    return DatasetStats(rows=len(lengths), tokens_min=lengths[0], tokens_median=_percentile(lengths, 0.5),
                        tokens_p95=_percentile(lengths, 0.95), tokens_max=lengths[-1], tokens_total=sum(lengths))


def stats_for_file(path: str | Path, model: str | None = None) -> DatasetStats:
    """Statistics of a data file for planning.

    TODO(lead): once `peftstudio.data` offers token statistics measured with `model`'s tokenizer
    (the data check's `DatasetStats`), call it here; until then lengths are approximated from
    characters and `model` is unused.
    """
    return approximate_stats(path)


__all__ = ["approximate_stats", "stats_for_file"]
