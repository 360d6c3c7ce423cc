"""The export screen driven with real touches on a real builtin:tiny-llama run: export to each of the
four targets (progress bar, location, open folder, instructions, copy the command) and press Test Export,
which runs the library's test (llama.cpp through llama-cpp-python for the GGUF kinds) and shows a pass."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from app import present_export
from app.controller import Controller
from peftstudio import open_store
from peftstudio.hardware import simulated_hardware
from tests.app.harness import Ui, frames, layout_problems
from tests.app.helpers import finished_runs


def shown(ui: Ui, name: str) -> bool:
    return ui.root.current == name and not ui.root.transition.is_active


@pytest.mark.slow
def test_export_to_each_of_the_four_targets_and_test_export_passes() -> None:
    pytest.importorskip("llama_cpp")  # Test Export of GGUF files runs llama.cpp
    store = open_store()
    run_id = finished_runs(store, 1)[0]
    opened: list[str] = []
    ctrl = Controller(hardware=simulated_hardware(), folder_opener=opened.append)
    progress_seen: list[float] = []
    ctrl.bind(export_progress=lambda _c, value: progress_seen.append(value))
    ui = Ui(ctrl)
    try:
        ctrl.open_export(run_id)
        ui.wait(lambda: shown(ui, "export") and ctrl.export_title.startswith("Run 1"), 30, "the export screen")
        bar = ui.screen.progress_card.ids.progress
        bar_values: list[float] = []
        bar.bind(value=lambda _b, v: bar_values.append(v))
        for name, kind, in_command in (("Hugging Face", "hf", "hf upload"), ("Ollama", "ollama", "ollama create"),
                                       ("LM Studio", "lmstudio", "lms import"), ("GGUF", "gguf", "llama-cli -m")):
            progress_seen.clear()
            bar_values.clear()
            ui.tap(ui.button(name))
            ui.wait(lambda: ctrl.export_result is not None and not ctrl.export_busy, 180, f"the {name} export")
            assert ctrl.error is None
            result = ctrl.export_result
            assert result["kind"] == kind and Path(result["path"]).is_dir()
            assert any(0 < v < 1 for v in progress_seen), f"no progress shown while exporting {name}"
            assert any(0 < v < 1 for v in bar_values), "the progress bar did not move"
            assert in_command in result["command"]
            frames(3)
            # the folder button and the copyable command
            ui.tap(ui.button("Open folder"))
            assert opened[-1] == Path(result["path"]).as_uri()
            ui.tap(ui.button("Copy command"))
            assert ui.button("Copied") is not None
            if kind == "ollama":
                ui.shot("42-export")
                assert layout_problems(ui) == []
            # Test Export: the library's test, its verdict and a sample answer on screen
            ui.tap(ui.button("Test Export"))
            ui.wait(lambda: ctrl.export_test is not None and not ctrl.export_busy, 300, f"Test Export of {name}")
            assert ctrl.error is None
            test = ctrl.export_test
            assert test["passed"], test["message"]
            assert ui.screen.verdict_card.ids.verdict.text == "Test passed"
            if kind != "hf":
                assert any("llama.cpp" in line and line.startswith("passed") for line in test["checks"])
            assert test["sample"]
            if kind == "ollama":
                assert any("Modelfile template" in line for line in test["checks"])
                frames(4)
                ui.screen.ids.scroll.scroll_y = 0  # scroll down to the verdict, as a person would
                ui.shot("43-export-tested")
    finally:
        ui.close()


def test_the_copy_button_puts_the_command_on_the_clipboard() -> None:
    from kivy.core.clipboard import Clipboard

    ctrl = Controller(hardware=simulated_hardware())
    ui = Ui(ctrl)
    try:
        ctrl.export_result = {"kind": "ollama", "name": "Ollama", "path": "/x", "files": "1 file", "quant": "q8_0",
                              "instructions": "cd /x", "command": "cd /x && ollama create bot -f Modelfile"}
        ctrl.show("export")
        ui.wait(lambda: shown(ui, "export"), 10, "the export screen")
        ui.tap(ui.button("Copy command"))
        assert Clipboard.paste() == "cd /x && ollama create bot -f Modelfile"
    finally:
        ui.close()


@pytest.mark.parametrize(("kind", "instructions", "expected"), [
    ("ollama", "To use this model in Ollama:\n  cd /o\n  ollama create run-1 -f Modelfile\n  ollama run run-1\n",
     "cd /o && ollama create run-1 -f Modelfile && ollama run run-1"),
    ("lmstudio", "To use this model in LM Studio, either:\n  1. copy ...\n  2. run: lms import /l/p/m/m.gguf\n",
     "lms import /l/p/m/m.gguf"),
    ("hf", "The folder /h holds a Hugging Face model.\nUpload it to the Hub with: hf upload YOUR-NAME/run-1 /h",
     "hf upload YOUR-NAME/run-1 /h"),
    ("gguf", "/g/m.gguf is a GGUF model file.", "llama-cli -m /g/m.gguf"),
])
def test_the_command_to_copy_per_kind(kind: str, instructions: str, expected: str) -> None:
    assert present_export.command(kind, "/g" if kind == "gguf" else "/x", "m.gguf", instructions) == expected


def test_doc_examples() -> None:
    assert doctest.testmod(present_export).failed == 0


def test_the_quantization_choice_with_estimated_sizes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from types import SimpleNamespace

    import peftstudio.export

    ctrl = Controller(hardware=simulated_hardware())
    asked: list[dict[str, object]] = []

    def fake_export(kind: str, source: object, out: object, **options: object) -> None:
        asked.append({"kind": kind, **options})
        raise RuntimeError("stop here")

    monkeypatch.setattr(peftstudio.export, "export", fake_export)
    monkeypatch.setattr(ctrl, "_export_tuned", lambda ref: SimpleNamespace(
        base_reference="builtin:tiny-llama", adapter_dir=tmp_path, run_id=None, version_id="v1"))
    monkeypatch.setattr(ctrl, "fail", lambda exc, retry=None: None)
    ui = Ui(ctrl)
    try:
        ctrl.export_run_id, ctrl.export_root = "v1", str(tmp_path)
        ctrl.export_quant_choices = present_export.quant_choices(135_000_000)
        ctrl.show("export")
        ui.wait(lambda: shown(ui, "export"), 10, "the export screen")
        cards = list(reversed(ui.screen.ids.quants.children))
        assert [c.quant for c in cards] == ["q4_k_m", "q5_k_m", "q6_k", "q8_0", "f16", "bf16"]
        assert cards[0].chosen and "MB" in cards[0].label and cards[0].tradeoff  # q4_k_m by default, with a size
        ui.tap(ui.button(present_export.quant_choices(135_000_000)[3]["label"]))
        assert ctrl.export_quant == "q8_0" and cards[3].chosen and not cards[0].chosen
        ui.tap(ui.button("LM Studio"))
        ui.wait(lambda: asked and not ctrl.export_busy, 30, "the export call")
        assert asked[-1]["kind"] == "lmstudio" and asked[-1]["quant"] == "q8_0"
        ui.tap(ui.button("Hugging Face"))
        ui.wait(lambda: len(asked) == 2 and not ctrl.export_busy, 30, "the export call")
        assert "quant" not in asked[-1]  # a Hugging Face folder has no quantization type
    finally:
        ui.close()
