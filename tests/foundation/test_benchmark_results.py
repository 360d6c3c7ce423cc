"""The committed benchmark figures (`benchmarks/results/*.jsonl`) are what the benchmarks print: one JSON object
a line (a line of anything else, such as a shell's `time` output appended by mistake, fails here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "results").glob("*.jsonl"))


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_every_line_is_a_json_object(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            figures = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"{path.name}:{number} is not JSON: {line[:80]!r}")
        assert isinstance(figures, dict), f"{path.name}:{number}"


def test_there_are_figures() -> None:
    assert [p.name for p in RESULTS if p.name == "cpu-2core.jsonl"]
