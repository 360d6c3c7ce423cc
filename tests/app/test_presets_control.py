"""Presets through the controller, without a window: save from the wizard, search and filter, export and
import (hostile files refused with plain words, nothing stored, the wizard untouched), the adjustments
listed before a preset that does not fit is applied, and the wizard prefilled from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.control.presets import default_preset_folder, export_target, file_stem, parse_tags, unique_name
from app.controller import Controller
from app.present_presets import adjustment_line, entry_details, setting_name, value_text
from peftstudio import open_store
from peftstudio.hardware import simulated_hardware
from peftstudio.history import list_presets, save_preset
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings


@pytest.fixture()
def ctrl() -> Controller:
    c = Controller(hardware=simulated_hardware())
    c.start()
    assert c.wait_idle()
    c.choose_profile("chatbot")
    c.choose_model("builtin:tiny-llama")
    c.check_data(c.sample_data_path())
    assert c.wait_idle(120) and c.data_report is not None
    return c


def gpu_preset(name: str = "from a big GPU", data_path: str = "elsewhere/chat.jsonl") -> RunConfig:
    """A tiny-llama configuration made on a CUDA machine: bf16, 4-bit, two GPUs (none of it runs here)."""
    training = TrainingSettings(precision="bf16", quantization="4bit", devices=2, strategy="ddp",
                                learning_rate=3e-4, micro_batch_size=8, gradient_accumulation=2)
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path=data_path),
                     training=training, name=name)


# ---------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(("text", "tags"), [
    ("a, b", ("a", "b")), ("  ", ()), ("x,,x, y ", ("x", "y")), (["q", " q", "r"], ("q", "r"))])
def test_parse_tags(text: Any, tags: tuple[str, ...]) -> None:
    assert parse_tags(text) == tags


@pytest.mark.parametrize(("name", "taken", "expected"), [
    ("bot", set(), "bot"), ("bot", {"bot"}, "bot (2)"), ("bot", {"bot", "bot (2)"}, "bot (3)"),
    ("x" * 100, {"x" * 100}, "x" * 96 + " (2)")])
def test_unique_name(name: str, taken: set[str], expected: str) -> None:
    assert unique_name(name, taken) == expected
    assert len(unique_name(name, taken)) <= 100


def test_export_target_names_a_new_file_in_a_folder(tmp_path: Path) -> None:
    assert export_target(str(tmp_path / "given.json"), "x") == tmp_path / "given.json"
    (tmp_path / "My-bot.json").write_text("{}")
    assert export_target(str(tmp_path), "My bot") == tmp_path / "My-bot-2.json"
    assert file_stem("///") == "preset"


def test_default_folder_is_documents_without_a_studio_home(tmp_path: Path) -> None:
    (tmp_path / "Documents").mkdir()
    assert default_preset_folder({}, tmp_path) == tmp_path / "Documents"
    inside = default_preset_folder({"PEFTSTUDIO_HOME": "set"}, tmp_path)
    assert inside.name == "exports" and inside.is_dir()


@pytest.mark.parametrize(("path", "name"), [
    ("training.precision", "Precision"), ("lora.rank", "LoRA rank"), ("training.learning_rate", "Learning rate"),
    ("model.trust_remote_code", "Running the model's own code"), ("training.devices", "Devices")])
def test_setting_names_are_the_settings_screen_names(path: str, name: str) -> None:
    assert setting_name(path) == name


def test_value_text() -> None:
    assert [value_text(v) for v in (False, 0.0003, ("q_proj", "v_proj"), 4, "bf16")] == \
        ["off", "0.0003", "q_proj, v_proj", "4", "bf16"]


# ---------------------------------------------------------------- through the controller


def test_save_from_the_wizard_then_search_and_filter(ctrl: Controller) -> None:
    ctrl.save_wizard_as_preset("Pirate bot", "pirate, quick", "small and quick")
    assert ctrl.wait_idle()
    assert ctrl.preset_error is None and "Pirate bot" in ctrl.preset_message
    saved = open_store().query("SELECT name, tags FROM presets")
    assert [(r["name"], json.loads(r["tags"])) for r in saved] == [("Pirate bot", ["pirate", "quick"])]
    save_preset("Other", gpu_preset(), tags=["gpu"], store=open_store())
    ctrl.refresh_presets()
    assert ctrl.wait_idle()
    assert {p.name for p in ctrl.presets} == {"Pirate bot", "Other"}
    assert ctrl.preset_options["tag"] == ["gpu", "pirate", "quick"]
    ctrl.search_presets("pira")
    assert ctrl.wait_idle()
    assert [p.name for p in ctrl.presets] == ["Pirate bot"]
    ctrl.search_presets("")
    ctrl.filter_presets("tag", "gpu")
    assert ctrl.wait_idle()
    assert [p.name for p in ctrl.presets] == ["Other"]
    assert "tags: gpu" in entry_details(ctrl.presets[0])


def test_saving_a_taken_name_is_refused_in_plain_words(ctrl: Controller) -> None:
    ctrl.save_wizard_as_preset("Same")
    ctrl.wait_idle()
    ctrl.save_wizard_as_preset("Same")
    ctrl.wait_idle()
    assert ctrl.preset_error is not None and "already exists" in ctrl.preset_error.explanation
    assert len(list_presets(store=open_store())) == 1


def test_export_and_import_again_under_a_new_name(ctrl: Controller, tmp_path: Path) -> None:
    ctrl.save_wizard_as_preset("Shared", "x")
    ctrl.wait_idle()
    ctrl.export_preset_to("Shared", str(tmp_path))
    ctrl.wait_idle()
    exported = tmp_path / "Shared.json"
    assert exported.is_file() and str(exported) in ctrl.preset_message
    assert json.loads(exported.read_text())["name"] == "Shared"
    ctrl.import_preset_file(str(exported))
    ctrl.wait_idle()
    assert ctrl.preset_error is None
    assert "Shared (2)" in ctrl.preset_message
    assert sorted(e.name for e in list_presets(store=open_store())) == ["Shared", "Shared (2)"]
    fit = ctrl.preset_fit
    assert fit is not None and fit.name == "Shared (2)" and fit.adjustments == ()
    assert fit.data_path == ctrl.sample_data_path()  # the same file, same fingerprint: used as it is


def wizard_state(ctrl: Controller) -> tuple[Any, ...]:
    return (ctrl.profile_id, ctrl.model_ref, dict(ctrl.overrides), ctrl.data_path, ctrl.plan)


HOSTILE: dict[str, tuple[bytes, str]] = {
    "nested 10,000 deep": (b"[" * 10_000 + b"]" * 10_000, "nested more than"),
    "a key repeated": (b'{"name": "a", "name": "b"}', "more than once"),
    "not UTF-8": (b'{"name": "\xff\xfe"}', "not UTF-8"),
    "not JSON": (b"name = 'x'", "not valid JSON"),
    "NUL in the data path": (None, "control characters"),  # built from a real preset below
    "unknown key": (None, "unknown setting"),
    "huge": (b" " * (2 * 1024 * 1024) + b"{}", "more than"),
}


def hostile_bytes(name: str, good: dict[str, Any]) -> bytes:
    data, _ = HOSTILE[name]
    if data is not None:
        return data
    doc = json.loads(json.dumps(good))
    if name == "NUL in the data path":
        doc["config"]["data"]["path"] = "chat\u0000.jsonl"
    else:
        doc["config"]["training"]["run_this"] = "rm -rf ~"
    return json.dumps(doc).encode()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_plainly_and_changes_nothing(ctrl: Controller, tmp_path: Path, name: str) -> None:
    save_preset("Mine", gpu_preset(), store=open_store())
    ctrl.export_preset_to("Mine", str(tmp_path / "good.json"))
    ctrl.wait_idle()
    good = json.loads((tmp_path / "good.json").read_text())
    path = tmp_path / "hostile.json"
    path.write_bytes(hostile_bytes(name, good))
    before_store = open_store().query("SELECT * FROM presets")
    before_wizard = wizard_state(ctrl)
    ctrl.import_preset_file(str(path))
    ctrl.wait_idle()
    error = ctrl.preset_error
    assert error is not None and error.code in ("config_invalid", "newer_format")
    assert HOSTILE[name][1] in error.explanation and "Traceback" not in error.explanation
    assert ctrl.preset_fit is None
    assert [tuple(r) for r in open_store().query("SELECT * FROM presets")] == [tuple(r) for r in before_store]
    assert wizard_state(ctrl) == before_wizard


def test_a_preset_that_does_not_fit_lists_its_adjustments_before_it_is_applied(ctrl: Controller) -> None:
    save_preset("GPU", gpu_preset(), store=open_store())
    before = wizard_state(ctrl)
    ctrl.use_preset("GPU")
    ctrl.wait_idle()
    fit = ctrl.preset_fit
    changed = {a.setting: (a.old, a.new) for a in fit.adjustments}
    assert changed["training.devices"] == (2, 1)
    assert changed["training.quantization"] == ("4bit", "none")
    assert changed["training.precision"][0] == "bf16" and changed["training.precision"][1] != "bf16"
    assert all(a.reason for a in fit.adjustments)
    assert adjustment_line(fit.adjustments[0])[0].startswith("Devices: from 2 to 1")
    assert any("not on this computer" in n for n in fit.notes)
    assert wizard_state(ctrl) == before  # nothing changes before "Apply"
    ctrl.apply_preset_to_wizard()
    ctrl.wait_idle()
    assert ctrl.preset_fit is None
    assert ctrl.overrides["learning_rate"] == 3e-4 and ctrl.overrides["quantization"] == "none"
    assert ctrl.plan is not None and ctrl.plan.value("learning_rate") == 3e-4
    assert ctrl.plan.value("precision") != "bf16"
    assert ctrl.data_path == ctrl.sample_data_path()  # the preset's data is not here: the wizard keeps its own
    assert ctrl.screen_request == "review"


def test_cancel_keeps_the_wizard(ctrl: Controller) -> None:
    save_preset("GPU", gpu_preset(), store=open_store())
    before = wizard_state(ctrl)
    ctrl.use_preset("GPU")
    ctrl.wait_idle()
    ctrl.cancel_preset()
    assert ctrl.preset_fit is None and wizard_state(ctrl) == before
