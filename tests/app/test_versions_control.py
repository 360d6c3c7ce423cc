"""The versions part of the controller without a window: timeline rows, set active, archive, restore,
delete, comparing two versions, and the disk-space prompt with an injected free-space figure.

Versions here are made by the library from adapter folders of run rows (fast); the UI test in
test_versions_screen.py uses versions of real trained runs.
"""

from __future__ import annotations

import doctest
import json
import os
from pathlib import Path

import pytest

from app import present_versions
from app.control import versions as versions_control
from app.controller import Controller
from peftstudio import open_store
from peftstudio.errors import PlainError
from peftstudio.history import create_version, get_version, list_versions
from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings

MB = 2**20


def _version(store: object, folder: Path, lr: float, val_loss: float, size: int = 2 * MB) -> str:
    """A run row and its version, from an adapter folder of `size` bytes (half of them incompressible)."""
    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="d.jsonl"),
                       lora=LoraSettings(rank=8), training=TrainingSettings(learning_rate=lr))
    run = store.create_run(config, name=f"lr {lr}")  # type: ignore[attr-defined]
    adapter = folder / run.id
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 8}), encoding="utf-8")
    (adapter / "adapter_model.safetensors").write_bytes(os.urandom(size // 2) + bytes(size // 2))
    metrics = {"best_val_loss": val_loss, "final_loss": val_loss - 0.2}
    return create_version(run.id, adapter, metrics=metrics, store=store).id  # type: ignore[arg-type]


@pytest.fixture()
def three(tmp_path: Path) -> list[str]:
    store = open_store()
    return [_version(store, tmp_path, lr, loss) for lr, loss in ((2e-2, 2.0), (5e-3, 1.5), (1e-2, 1.7))]


def test_the_timeline_is_newest_first_with_the_change_from_the_previous(three: list[str]) -> None:
    ctrl = Controller()
    ctrl.refresh_versions()
    assert ctrl.wait_idle()
    assert ctrl.versions_line == "builtin:tiny-llama [chatbot]"
    rows = ctrl.versions
    assert [r["label"] for r in rows] == ["v3", "v2", "v1"]
    assert rows[0]["active"] and not rows[1]["active"]
    assert "validation loss 1.700" in rows[0]["metrics"] and "+0.200" in rows[0]["metrics"]
    assert "worse" in rows[0]["metrics"] and "better" in rows[1]["metrics"]
    assert rows[0]["since"] == "change since v2" and rows[2]["since"] == ""
    assert rows[0]["size"].endswith("MB") and rows[0]["can_archive"]


def test_set_active_archive_restore_and_delete(three: list[str]) -> None:
    ctrl = Controller()
    v1, v2, v3 = three
    ctrl.refresh_versions()
    ctrl.activate_version(v1)
    assert ctrl.wait_idle()
    assert get_version(v1).active and not get_version(v3).active
    assert ctrl.versions_message == "v1 is now the active version."
    ctrl.archive_version(v2)
    assert ctrl.wait_idle()
    assert get_version(v2).state == "archived"
    assert "v2 is archived" in ctrl.versions_message
    row = next(r for r in ctrl.versions if r["id"] == v2)
    assert row["can_restore"] and not row["can_activate"]
    ctrl.restore_version(v2)
    assert ctrl.wait_idle()
    assert get_version(v2).state == "ready"
    ctrl.delete_version(v3)  # the first tap only asks
    assert ctrl.wait_idle()
    assert ctrl.version_confirm_delete == v3 and get_version(v3).state == "ready"
    ctrl.delete_version(v3)
    assert ctrl.wait_idle()
    assert [v.id for v in list_versions()] == [v1, v2]
    assert "freed" in ctrl.versions_message and ctrl.version_confirm_delete == ""


def test_a_refused_change_is_a_plain_error(three: list[str]) -> None:
    ctrl = Controller()
    ctrl.archive_version(three[0])
    assert ctrl.wait_idle()
    ctrl.activate_version(three[0])  # archived: the library refuses, the app shows why
    assert ctrl.wait_idle()
    assert ctrl.error is not None and "restore it" in ctrl.error.explanation
    assert not ctrl.versions_busy


def test_comparing_two_versions_lists_metric_changes_and_settings(three: list[str]) -> None:
    ctrl = Controller()
    ctrl.refresh_versions()
    assert ctrl.wait_idle()
    ctrl.pick_version_to_compare(three[2])
    assert ctrl.version_compare_pick == three[2]
    ctrl.pick_version_to_compare(three[0])  # the older one comes first
    assert ctrl.wait_idle()
    c = ctrl.version_comparison
    assert c["title"] == "v1 compared with v3"
    assert c["metrics"][0] == "validation loss: 2.000 -> 1.700 (-0.300, better)"
    assert "learning rate: 0.02 -> 0.01" in c["settings"]


def test_the_disk_prompt_lists_what_to_clear_and_goes_away_once_enough_is_freed(three: list[str]) -> None:
    retried = []
    ctrl = Controller(disk_free_bytes=1 * MB)  # a nearly full disk, injected
    ctrl.check_disk_space(3 * MB, "the GGUF file", margin_bytes=0, retry=lambda: retried.append(True))
    assert ctrl.wait_idle()
    prompt = ctrl.space_prompt
    assert prompt["summary"] == ("Writing the GGUF file needs about 3.0 MB, but only 1.0 MB is free: 2.0 MB more "
                                 "is needed.")
    assert [c["label"] for c in prompt["candidates"]] == ["v1", "v2"]  # v3 is active: never offered
    assert prompt["candidates"][0]["delete"] == "Delete v1 (frees 2.0 MB)"
    assert prompt["candidates"][0]["archive"].startswith("Archive v1 (frees ")
    assert prompt["candidates"][0]["suggested"] and not prompt["candidates"][1]["suggested"]
    assert ctrl.screen_request == "versions"
    ctrl.archive_version(three[0])  # about half of it compresses away: not yet enough
    assert ctrl.wait_idle()
    assert 1.5 * MB < ctrl.disk_free_bytes < 2.5 * MB
    assert not ctrl.space_prompt["enough"]
    assert "(archived)" in ctrl.space_prompt["candidates"][0]["text"]
    ctrl.version_confirm_delete = three[1]
    ctrl.delete_version(three[1])
    assert ctrl.wait_idle()
    assert ctrl.space_prompt["enough"] and ctrl.space_prompt["candidates"] == []
    ctrl.space_try_again()
    assert retried == [True] and ctrl.space_prompt is None


def test_an_export_short_of_space_opens_the_prompt_with_the_libraries_figures(three: list[str],
                                                                              tmp_path: Path) -> None:
    from peftstudio.export import ExportSource, export

    with pytest.raises(PlainError) as caught:
        export("gguf", ExportSource("builtin:tiny-llama"), tmp_path / "out", disk_free_bytes=1000)
    info = caught.value.info
    assert info.code == "disk_full" and info.details["needed_bytes"] > 1000 and info.details["free_bytes"] == 1000
    ctrl = Controller(disk_free_bytes=1000)
    assert ctrl.space_prompt_for(info)
    assert ctrl.wait_idle()
    assert ctrl.space_prompt["summary"].startswith("Writing the GGUF file needs about ")
    assert len(ctrl.space_prompt["candidates"]) == 2
    assert not ctrl.space_prompt_for(PlainError(info.__class__(code="nan_loss", title="", explanation="")))


def test_the_disk_full_errors_action_lists_every_version_that_could_be_cleared(three: list[str]) -> None:
    from peftstudio.errors import make

    error = make("disk_full", what="the checkpoint")  # the disk filled up while writing: no figures
    assert error.info.actions[0].fix_id == "free_space"
    ctrl = Controller()
    ctrl.fail(error)  # the error dialog's button does what its action says
    assert ctrl.apply_action(ctrl.error.actions[0]) and ctrl.error is None
    assert ctrl.wait_idle()
    prompt = ctrl.space_prompt
    assert prompt["summary"] == "The disk filled up while writing the checkpoint."
    assert [c["label"] for c in prompt["candidates"]] == ["v1", "v2"] and ctrl.screen_request == "versions"
    assert not any(c["suggested"] for c in prompt["candidates"])
    ctrl.version_confirm_delete = three[0]
    ctrl.delete_version(three[0])
    assert ctrl.wait_idle()
    assert [c["label"] for c in ctrl.space_prompt["candidates"]] == ["v2"]  # what is left to clear


@pytest.mark.parametrize(("name", "delta", "expected"), [
    ("best_val_loss", -0.1, ("-0.100", "better")),
    ("best_val_loss", 0.1, ("+0.100", "worse")),
    ("quality_score", 0.1, ("+0.100", "better")),
    ("learning_rate", 0.1, ("+0.100", "")),
    ("final_loss", 0.0, ("+0.000", "")),
])
def test_a_change_is_better_or_worse_by_the_libraries_direction(name: str, delta: float,
                                                                 expected: tuple[str, str]) -> None:
    from peftstudio.history import lower_is_better

    assert present_versions.change(name, delta, lower_is_better) == expected


@pytest.mark.parametrize("module", [present_versions, versions_control])
def test_doc_examples(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]
