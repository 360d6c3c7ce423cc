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


SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_the_benchmarks_import_names_the_library_has(path: Path) -> None:
    """Benchmarks import the library inside their functions, so a moved name breaks them only when they run
    (throughput.py asked `callbacks.decision` for `guard_callbacks` after it moved to `callbacks.guards`)."""
    import ast
    import importlib

    missing = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("peftstudio"):
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{a.name}" for a in node.names if not hasattr(module, a.name)
                        and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
    assert not missing, f"{path.name} imports names the library does not have: {missing}"
