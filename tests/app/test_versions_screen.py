"""The versions screen driven with real touches on versions of real builtin:tiny-llama runs: the
timeline, set a version active, archive another, compare two, open one in the playground, and the
disk-space prompt of an export on a (injected) nearly full disk, cleared from the prompt itself."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.controller import Controller
from peftstudio import open_store
from peftstudio.export import ExportSource
from peftstudio.export.gguf.exporter import gguf_size
from peftstudio.export.source import DISK_MARGIN
from peftstudio.hardware import simulated_hardware
from peftstudio.history import get_version, list_versions
from tests.app.harness import Ui, frames, layout_problems
from tests.app.helpers import finished_runs


def wait_for_versions(store: Any, count: int, timeout: float = 60.0) -> list[Any]:
    """The worker records a run's version just after marking it completed: wait for the rows."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = list_versions(store=store)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{count} versions were not recorded within {timeout} s")


def shown(ui: Ui, name: str) -> bool:
    """`name` is the screen shown and its fade-in is over (touches during a transition are dropped)."""
    return ui.root.current == name and not ui.root.transition.is_active


def row_of(ui: Ui, label: str) -> Any:
    from app.screens.versions.versions import VersionRow

    rows = [r for r in ui.find(VersionRow) if r.row.get("label") == label]
    assert rows, f"no row for {label}"
    return rows[0]


def button_starting(ui: Ui, where: Any, start: str) -> Any:
    from app.widgets.action_button import StudioButton

    hits = [b for b in ui.find(StudioButton, where) if b.text.startswith(start) and b.opacity > 0]
    assert hits, f"no button starting {start!r}"
    return hits[0]


@pytest.mark.slow
def test_set_a_version_active_archive_another_compare_and_clear_space_for_an_export() -> None:
    store = open_store()
    finished_runs(store, 2)
    v1, v2 = wait_for_versions(store, 2)
    assert v2.active and not v1.active  # the newest version follows
    ctrl = Controller(hardware=simulated_hardware())
    ui = Ui(ctrl)
    try:
        ctrl.open_versions("builtin:tiny-llama")
        ui.wait(lambda: shown(ui, "versions") and len(ctrl.versions) == 2, 30, "the timeline")
        frames(4)
        assert "validation loss" in row_of(ui, "v2").row["metrics"]
        assert row_of(ui, "v2").row["since"] == "change since v1"
        ui.shot("40-versions")
        assert layout_problems(ui) == []

        # set v1 active: a real tap on its button
        ui.tap(ui.button("Set as active", row_of(ui, "v1")))
        ui.wait(lambda: get_version(v1.id, store=store).active, 30, "v1 active")
        ui.wait(lambda: row_of(ui, "v1").row["active"] and not row_of(ui, "v2").row["active"], 30, "rows redrawn")
        assert ctrl.versions_message == "v1 is now the active version."

        # archive v2: its button shows its size; afterwards it offers Restore
        archive = button_starting(ui, row_of(ui, "v2"), "Archive (")
        assert archive.text == f"Archive ({row_of(ui, 'v2').row['size']})"
        ui.tap(archive)
        ui.wait(lambda: get_version(v2.id, store=store).state == "archived", 30, "v2 archived")
        ui.wait(lambda: row_of(ui, "v2").row["state"] == "archived", 30, "the row says archived")
        assert button_starting(ui, row_of(ui, "v2"), "Restore (")
        assert "v2 is archived" in ctrl.versions_message

        # compare v1 with v2: pick one, then the other
        ui.tap(ui.button("Compare", row_of(ui, "v2")))
        ui.tap(ui.button("Compare with v2", row_of(ui, "v1")))
        ui.wait(lambda: ctrl.version_comparison is not None, 30, "the comparison")
        assert ctrl.version_comparison["title"] == "v1 compared with v2"
        assert any(s.startswith("learning rate: 0.02 -> 0.005") for s in ctrl.version_comparison["settings"])
        frames(4)
        ui.shot("44-versions-compare")
        ui.tap(ui.button("Close comparison"))
        ui.wait(lambda: ctrl.version_comparison is None, 10, "closed")

        # an export on a nearly full disk (injected figure): the prompt lists v2 and what deleting it frees
        needed = int(gguf_size(ExportSource("builtin:tiny-llama"), "q4_k_m") * DISK_MARGIN)  # q4_k_m: the default
        archived = get_version(v2.id, store=store).size_bytes
        ctrl.disk_free_bytes = needed - archived // 2
        ctrl.open_export(v1.run_id)
        ui.wait(lambda: shown(ui, "export"), 10, "the export screen")
        ui.tap(ui.button("GGUF"))
        ui.wait(lambda: shown(ui, "versions") and ctrl.space_prompt is not None, 60, "the disk prompt")
        prompt = ctrl.space_prompt
        assert prompt["summary"].startswith("Writing the GGUF file needs about ")
        assert [c["label"] for c in prompt["candidates"]] == ["v2"]  # v1 is active: never offered
        delete = button_starting(ui, None, "Delete v2 (frees ")
        frames(4)
        ui.shot("41-versions-disk-prompt")
        assert layout_problems(ui) == []
        ui.tap(delete)
        ui.wait(lambda: ctrl.space_prompt is not None and ctrl.space_prompt["enough"], 30, "enough space")
        assert [v.label for v in list_versions(store=store)] == ["v1"]
        ui.tap(ui.button("Try again"))
        ui.wait(lambda: ctrl.export_result is not None, 120, "the export, now that there is room")
        assert shown(ui, "export") and ctrl.export_result["kind"] == "gguf"

        # open v1 in the playground (the playground's own tests check the answers)
        ctrl.open_versions()
        ui.wait(lambda: shown(ui, "versions") and ctrl.versions, 30, "the versions again")
        ui.tap(ui.button("Open in playground", row_of(ui, "v1")))
        ui.wait(lambda: shown(ui, "playground"), 30, "the playground")
        assert ctrl.playground_run_id == v1.run_id
        ctrl.wait_idle(120)
    finally:
        ui.close()
