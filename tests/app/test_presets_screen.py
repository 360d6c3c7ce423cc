"""The presets screens with real touches offscreen: "Save as preset" at the end of the wizard, the library's
search and filters, export and re-import, the adjustments listed for a preset made on a bigger machine,
and a hostile file imported through the screen (plain message; nothing stored; the wizard unchanged)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kivy.uix.spinner import SpinnerOption

from app.widgets.banner import Banner
from peftstudio import open_store
from peftstudio.history import export_preset, list_presets, save_preset
from tests.app.harness import Ui, frames, probed_ui
from tests.app.test_presets_control import gpu_preset, wizard_state


@pytest.fixture()
def ui() -> Iterator[Ui]:
    with probed_ui() as ui:
        ctrl = ui.ctrl
        ctrl.choose_profile("chatbot")
        ctrl.choose_model("builtin:tiny-llama")
        ctrl.check_data(ctrl.sample_data_path())
        ui.wait(lambda: ctrl.data_report is not None and not ctrl.data_busy, 120, "the data check")
        yield ui


def go(ui: Ui, name: str) -> None:
    ui.ctrl.show(name)
    ui.wait(lambda: ui.root.current == name and not ui.root.transition.is_active, 5, name)
    frames(4)


def dialog(ui: Ui, cls: str) -> Any:
    found = [w for w in ui.window.children if w.__class__.__name__ == cls]
    return found[0] if found else None


def rows(ui: Ui) -> list[Any]:
    return list(reversed(ui.screen.ids.rows.children))


def type_into(ui: Ui, field: Any, text: str) -> None:
    ui.tap(field)  # focus it, as a person would, then type
    field.text = text
    frames(2)


def test_save_search_export_and_reimport_a_preset(ui: Ui) -> None:
    ctrl = ui.ctrl
    go(ui, "review")
    ui.tap(ui.button("Save as preset..."))
    save = ui.wait(lambda: dialog(ui, "SavePresetDialog"), 5, "the save dialog")
    assert save.ids.name_input.text.startswith("Chatbot")  # the planned run's name is offered
    type_into(ui, save.ids.name_input, "Pirate bot")
    type_into(ui, save.ids.tags, "pirate, quick test")
    type_into(ui, save.ids.notes, "Talks like a pirate; trains in seconds.")
    ui.shot("30-save-preset")
    ui.tap(save.ids.save_button)
    ui.wait(lambda: save.parent is None, 30, "the dialog to close once saved")
    [entry] = list_presets(store=open_store())
    assert (entry.name, entry.tags, entry.model) == ("Pirate bot", ("pirate", "quick test"), "builtin:tiny-llama")

    save_preset("Big GPU chatbot", gpu_preset(), tags=["gpu"], notes="Made on a 24 GB card.", store=open_store())
    go(ui, "presets")
    ui.wait(lambda: len(rows(ui)) == 2, 30, "both presets listed")
    type_into(ui, ui.screen.ids.search, "pirate")
    ui.wait(lambda: [r.name for r in rows(ui)] == ["Pirate bot"], 30, "the search")
    ui.screen.ids.search.text = ""
    ui.wait(lambda: len(rows(ui)) == 2, 30, "the search cleared")
    ui.tap(ui.screen.ids.tag_filter)  # a real tap opens the filter's list; another picks "gpu"
    option = ui.wait(lambda: ui.find(SpinnerOption, text="gpu"), 5, "the tag list")[0]
    ui.tap(option)
    ui.wait(lambda: [r.name for r in rows(ui)] == ["Big GPU chatbot"], 30, "the tag filter")
    ui.shot("31-presets")
    ui.screen.ids.tag_filter.text = "All tags"
    ui.wait(lambda: len(rows(ui)) == 2, 30, "the filter cleared")

    pirate = next(r for r in rows(ui) if r.name == "Pirate bot")
    ui.tap(pirate.ids.export_button)
    exported = Path(ctrl.preset_folder) / "Pirate-bot.json"
    ui.wait(lambda: exported.is_file() and "Exported" in ctrl.preset_message, 30, "the export")
    assert json.loads(exported.read_text())["tags"] == ["pirate", "quick test"]

    type_into(ui, ui.screen.ids.path, str(exported))
    ui.tap(ui.screen.ids.import_button)
    ui.wait(lambda: ctrl.preset_fit is not None, 30, "the import")
    assert "Pirate bot (2)" in ctrl.preset_message
    assert sorted(e.name for e in list_presets(store=open_store())) == ["Big GPU chatbot", "Pirate bot",
                                                                          "Pirate bot (2)"]
    ui.wait(lambda: len(rows(ui)) == 3, 30, "the imported preset listed")
    assert "fits this computer as it is" in ui.screen.ids.messages.children[0].summary
    ui.tap(ui.button("Apply to the wizard"))
    ui.wait(lambda: ui.root.current == "review" and not ctrl.data_busy and ctrl.plan is not None, 60,
            "the wizard, prefilled")
    assert ctrl.profile_id == "chatbot" and ctrl.model_ref == "builtin:tiny-llama"
    assert ctrl.data_path == ctrl.sample_data_path()


def test_a_preset_from_a_bigger_machine_lists_its_adjustments_first(ui: Ui, tmp_path: Path) -> None:
    ctrl = ui.ctrl
    save_preset("Big GPU chatbot", gpu_preset(), tags=["gpu"], store=open_store())
    shared = tmp_path / "big-gpu.json"
    export_preset("Big GPU chatbot", shared, store=open_store())
    with open_store().transaction() as c:  # the file came from someone else: not in this library
        c.execute("DELETE FROM presets")
    before = wizard_state(ctrl)
    go(ui, "presets")
    type_into(ui, ui.screen.ids.path, str(shared))
    ui.tap(ui.screen.ids.import_button)
    ui.wait(lambda: ctrl.preset_fit is not None, 30, "the import")
    card = ui.wait(lambda: [w for w in ui.screen.ids.messages.children if w.__class__.__name__ == "FitCard"],
                   5, "the adjustments")[0]
    changes = [row.change for row in reversed(card.ids.adjustments.children)]
    assert "Devices: from 2 to 1" in changes and "Quantization: from 4bit to none" in changes
    assert any(c.startswith("Precision: from bf16 to") for c in changes)
    assert wizard_state(ctrl) == before  # listed, not applied
    ui.scroll_to(card)
    ui.shot("33-preset-adjustments")
    ui.tap(card.ids.apply_button)
    ui.wait(lambda: ui.root.current == "review" and ctrl.plan is not None, 30, "the wizard")
    assert ctrl.plan.value("quantization") == "none" and ctrl.plan.value("learning_rate") == 3e-4
    assert ctrl.plan.value("micro_batch_size") * ctrl.plan.value("gradient_accumulation") >= 16 or \
        ctrl.overrides["gradient_accumulation"] >= 2


def test_a_hostile_preset_file_shows_the_plain_message_and_changes_nothing(ui: Ui, tmp_path: Path) -> None:
    ctrl = ui.ctrl
    save_preset("Mine", gpu_preset(), store=open_store())
    good = json.loads(export_preset("Mine", tmp_path / "good.json", store=open_store())[0].read_text())
    good["name"] = "Friendly name"
    good["config"]["data"]["path"] = "../../etc/passwd\u0000.jsonl"
    good["config"]["model"]["trust_remote_code"] = True
    hostile = tmp_path / "free-gpu-speedup.json"
    hostile.write_text(json.dumps(good))
    go(ui, "presets")
    ui.wait(lambda: len(rows(ui)) == 1, 30, "the library")
    before_store = [tuple(r) for r in open_store().query("SELECT * FROM presets")]
    before_wizard = wizard_state(ctrl)
    type_into(ui, ui.screen.ids.path, str(hostile))
    ui.tap(ui.screen.ids.import_button)
    banner = ui.wait(lambda: ui.find(Banner, ui.screen), 30, "the plain message")[0]
    assert banner.severity == "error" and banner.title == ctrl.preset_error.title
    assert "config.data.path: contains control characters" in banner.message
    assert "Traceback" not in banner.message
    ui.shot("32-preset-import-error")
    assert [tuple(r) for r in open_store().query("SELECT * FROM presets")] == before_store
    assert wizard_state(ctrl) == before_wizard and ctrl.preset_fit is None
    assert [r.name for r in rows(ui)] == ["Mine"]


def test_a_preset_file_dropped_on_the_library_is_imported(ui: Ui, tmp_path: Path) -> None:
    ctrl = ui.ctrl
    save_preset("Dropped GPU chatbot", gpu_preset(), tags=["gpu"], store=open_store())
    shared = tmp_path / "dropped.json"
    export_preset("Dropped GPU chatbot", shared, store=open_store())
    with open_store().transaction() as c:
        c.execute("DELETE FROM presets")
    go(ui, "presets")
    ui.window.dispatch("on_drop_file", str(shared).encode(), 200, 200)  # dragged onto the window
    ui.wait(lambda: ctrl.preset_fit is not None, 30, "the import of the dropped file")
    assert [p.name for p in ctrl.presets] == ["Dropped GPU chatbot"] and ui.root.current == "presets"
