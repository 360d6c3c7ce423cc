"""Shared test set-up: every test gets its own PEFT Studio home; built models are cached once per session."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Set before anything imports peftstudio: one models cache for the whole session (building the
# built-in models takes seconds; tests must not rebuild them), and no network.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="peftstudio-tests-"))
# Built models are cached across sessions in the checkout's .cache (ignored by git); folder names carry
# the recipe's version, so a changed recipe rebuilds.
os.environ.setdefault("PEFTSTUDIO_MODELS_DIR", str(Path(__file__).resolve().parents[1] / ".cache" / "models"))
os.environ["PEFTSTUDIO_HOME"] = str(_SESSION_DIR / "home")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new, empty home folder (store, runs, presets) for each test."""
    home = tmp_path / "home"
    monkeypatch.setenv("PEFTSTUDIO_HOME", str(home))
    return home


@dataclass(frozen=True)
class DemoRun:
    """`make demo` on SmolLM2, run once: its exit code, what it printed, its home and exports folder."""

    code: int
    out: str
    home: Path
    exports: Path
    seconds: float

    def store(self) -> Any:
        """The demo home's store (its one run is the demo's training)."""
        from peftstudio.store.db import Store

        return Store(self.home / "peftstudio.db")

    def run(self) -> Any:
        [run] = [r for r in self.store().list_runs() if r.name == "demo"]
        return run


@pytest.fixture(scope="session")
def smollm2_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The full demo on SmolLM2 in a home of its own, for every test that looks at it (the demo test, the
    quality test's gentle run, the README's playground picture): training SmolLM2 takes minutes, once."""
    import contextlib
    import io
    import time

    from peftstudio.cli.demo_flow import run_demo

    root = tmp_path_factory.mktemp("smollm2-demo")
    printed = io.StringIO()
    start = time.monotonic()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setenv("PEFTSTUDIO_HOME", str(root / "home"))
        code = run_demo(model="builtin:smollm2-135m", out=str(root / "out"))
    return DemoRun(code, printed.getvalue(), root / "home", root / "out", time.monotonic() - start)
