"""Shared test set-up: every test gets its own PEFT Studio home; built models are cached once per session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
