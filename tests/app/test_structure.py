"""The app's shape: screens and widgets are thin views (no torch, no training code), the glossary is
shared with the docs, and every screen has its own folder with a .py and a .kv file."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import screens
from peftstudio import glossary

ROOT = Path(__file__).resolve().parents[2]
VIEW_FILES = sorted([*(ROOT / "app" / "screens").rglob("*.py"), *(ROOT / "app" / "widgets").rglob("*.py")])
#: What a view may import from the library: plain data only (the glossary, the settings schema). Everything
#: else goes through the controller.
ALLOWED_LIBRARY = {"peftstudio.glossary", "peftstudio.settings.schema"}
FORBIDDEN_TOP = {"torch", "transformers", "peft", "lightning", "accelerate", "datasets", "bitsandbytes", "llama_cpp"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("path", VIEW_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_views_do_not_import_torch_or_library_code(path: Path) -> None:
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top not in FORBIDDEN_TOP, f"{path.name} imports {name}"
        if top == "peftstudio":
            assert any(name == ok or name.startswith(ok + ".") for ok in ALLOWED_LIBRARY) or name == "peftstudio", \
                f"{path.name} imports {name}: views must go through app.controller"
        assert name != "app.follow", f"{path.name} reads the store directly"


@pytest.mark.parametrize("path", sorted((ROOT / "app").rglob("*.kv")), ids=lambda p: p.name)
def test_kv_files_import_no_library_code(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#:import"):
            assert "peftstudio" not in line and "torch" not in line, f"{path.name}: {line}"


def test_building_every_screen_imports_no_training_code() -> None:
    code = ("import os, sys, tempfile; os.environ.update(SDL_VIDEODRIVER='offscreen', KIVY_NO_ARGS='1', "
            "KIVY_NO_FILELOG='1', KIVY_NO_CONSOLELOG='1', KIVY_HOME=tempfile.mkdtemp()); "
            "from app import screens, widgets; widgets.load(); [screens.load(n) for n in screens.SCREENS]; "
            "import app.screens.errors.errors; "
            "bad = [m for m in ('torch', 'transformers', 'peft', 'lightning', 'peftstudio.engine.trainer') "
            "if m in sys.modules]; assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("name", list(screens.SCREENS))
def test_each_screen_has_its_folder_with_py_and_kv(name: str) -> None:
    folder = ROOT / "app" / "screens" / name
    assert (folder / f"{name}.py").is_file() and (folder / f"{name}.kv").is_file()
    assert screens.SCREENS[name].startswith(f"app.screens.{name}.{name}:")


def test_docs_glossary_lists_every_term() -> None:
    page = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)
    assert headings == glossary.terms()
    assert page == glossary.to_markdown()  # regenerate with: python -c "...to_markdown()" > docs/glossary.md


@pytest.mark.parametrize("word", ["LoRA", "epoch", "learning rate", "quantization", "batch size",
                                  "gradient accumulation", "loss", "validation", "overfitting", "checkpoint",
                                  "token", "context length", "precision", "GGUF", "adapter"])
def test_the_glossary_explains_the_words_the_app_uses(word: str) -> None:
    term = glossary.lookup(word)
    assert term is not None and term.definition and term.example
