"""The package's own requirements: what users' environments must be free to choose."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_torch_is_a_range_not_a_pin() -> None:
    """GPU images bring their own torch (2.11 with CUDA 13 today): the library takes a range, the
    Makefile pins the CPU build it tests with."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    torch = [d for d in project["dependencies"] if re.match(r"torch\b", d)]
    assert torch and "==" not in torch[0] and ">=" in torch[0], torch
    assert re.search(r"^TORCH := torch==\d", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
