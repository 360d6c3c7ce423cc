"""Code generation keeps whitespace exactly (requirement 3.5): tabs, trailing spaces and blank lines inside
code blocks survive reading, the model's own chat template and tokenization, in the trained tokens."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from peftstudio.data import build_datasets, check_file
from peftstudio.records import DataSettings

CODE = "def area(w, h):\n\tif w < 0:  \n\t\traise ValueError('w')\n\n\n    return w * h\t\n"
ANSWER = "Here it is:\n```python\n" + CODE + "```"


def _write(tmp_path: Path, fmt: str) -> Path:
    rows = [{"instruction": f"Write area #{i}, with tabs.", "output": ANSWER} for i in range(12)]
    path = tmp_path / f"code.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["instruction", "output"])
            writer.writeheader()
            writer.writerows(rows)
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_code_whitespace_survives_into_the_trained_tokens(tmp_path: Path, fmt: str) -> None:
    from peftstudio.models import load_tokenizer

    path = _write(tmp_path, fmt)
    assert not [f for f in check_file(path, profile="code-generation").findings if f.severity == "error"]
    tokenizer = load_tokenizer("builtin:smollm2-135m")  # the real SmolLM2 tokenizer and chat template
    splits = build_datasets(DataSettings(path=str(path)), tokenizer, 256, 1)
    for example in [*splits.train, *splits.validation]:
        trained = [t for t, label in zip(example["input_ids"], example["labels"], strict=True) if label != -100]
        text = tokenizer.decode(trained)
        assert CODE in text, repr(text)  # every tab, trailing space and blank line, in the loss
        assert text.startswith(ANSWER)
