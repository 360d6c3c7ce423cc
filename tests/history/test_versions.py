from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from peftstudio.errors import PlainError
from peftstudio.history.archive import archive_version, delete_version, restore_version
from peftstudio.history.versions import (
    active_version,
    adapter_path,
    compare_versions,
    get_version,
    line_folder_name,
    list_versions,
    record_completed_run,
    repair_versions,
    set_active,
    timeline,
    versions_root,
)
from peftstudio.store import open_store
from tests.history.helpers import adapter_folder, completed_run, config


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _two_versions(tmp_path: Path) -> tuple[str, str]:
    s = open_store()
    r1 = completed_run(s, config(), [2.0, 1.5])
    v1 = record_completed_run(s, r1, adapter_folder(tmp_path, 1))
    r2 = completed_run(s, config(learning_rate=1e-3), [1.8, 1.2])
    v2 = record_completed_run(s, r2, adapter_folder(tmp_path, 2))
    return v1.id, v2.id


def test_two_completed_runs_give_v1_and_v2(tmp_path: Path) -> None:
    _two_versions(tmp_path)
    versions = list_versions()
    assert [v.label for v in versions] == ["v1", "v2"]
    assert versions[0].line == versions[1].line == "builtin:tiny-llama [chatbot]"
    folder = Path(versions[1].path)
    assert folder.parent.parent == versions_root()
    assert _tree(folder / "adapter") == _tree(tmp_path / "adapter-2")
    assert {p.name for p in folder.iterdir()} == {"adapter", "config.json", "metrics.json", "version.json"}
    assert versions[1].metrics["val_loss"] == 1.2 and versions[1].metrics["best_val_loss"] == 1.2
    assert versions[1].size_bytes > 40_000
    assert versions[1].active and not versions[0].active  # the newest follows unless pinned


def test_timeline_deltas_against_previous(tmp_path: Path) -> None:
    v1, _v2 = _two_versions(tmp_path)
    entries = timeline("builtin:tiny-llama [chatbot]")
    assert entries[0].deltas == {} and entries[0].previous_id is None
    assert entries[1].previous_id == v1
    assert entries[1].deltas["val_loss"] == pytest.approx(1.2 - 1.5)


def test_compare_two_versions(tmp_path: Path) -> None:
    v1, v2 = _two_versions(tmp_path)
    c = compare_versions(v1, v2)
    assert c.metric_deltas["val_loss"] == pytest.approx(-0.3)
    assert [(d.path, d.values) for d in c.differences] == [("training.learning_rate", (2e-4, 1e-3))]


def test_set_active_pins_an_older_version(tmp_path: Path) -> None:
    v1, _v2 = _two_versions(tmp_path)
    set_active("v1")
    line = get_version(v1).line
    assert active_version(line).id == v1
    s = open_store()
    r3 = completed_run(s, config(), [1.0])
    v3 = record_completed_run(s, r3, adapter_folder(tmp_path, 3))
    assert not v3.active and active_version(line).id == v1  # pinned stays pinned
    assert adapter_path(v1) == Path(get_version(v1).path) / "adapter"


def test_archive_then_restore_is_byte_identical(tmp_path: Path) -> None:
    v1, _ = _two_versions(tmp_path)
    folder = Path(get_version(v1).path)
    before = _tree(folder)
    archived = archive_version(v1)
    assert archived.state == "archived" and not folder.exists()
    assert Path(archived.path).is_file() and archived.path.endswith(".tar.gz")
    assert archived.size_bytes == Path(archived.path).stat().st_size
    with pytest.raises(PlainError, match="restore"):
        adapter_path(v1)
    with pytest.raises(PlainError, match="restore"):
        set_active(v1)
    restored = restore_version(v1)
    assert restored.state == "ready" and not Path(archived.path).exists()
    assert _tree(folder) == before


def test_restore_refuses_a_tampered_archive(tmp_path: Path) -> None:
    v1, _ = _two_versions(tmp_path)
    archived = archive_version(v1)
    Path(archived.path).write_bytes(b"not an archive")
    with pytest.raises(PlainError) as info:
        restore_version(v1)
    assert info.value.code == "checkpoint_corrupt"
    assert get_version(v1).state == "archived"


def test_delete_keeps_number_and_frees_files(tmp_path: Path) -> None:
    _v1, v2 = _two_versions(tmp_path)
    folder = Path(get_version(v2).path)
    delete_version(v2)
    assert not folder.exists()
    assert [v.label for v in list_versions()] == ["v1"]
    assert [v.state for v in list_versions(include_deleted=True)] == ["ready", "deleted"]
    s = open_store()
    v3 = record_completed_run(s, completed_run(s, config(), [1.0]), adapter_folder(tmp_path, 3))
    assert v3.label == "v3"  # numbers are never reused


def test_unknown_and_ambiguous_references(tmp_path: Path) -> None:
    _two_versions(tmp_path)
    with pytest.raises(PlainError) as info:
        get_version("v9")
    assert info.value.code == "item_not_found"
    s = open_store()
    other = config()
    other = type(other)(profile="summarization", model=other.model, data=other.data)
    record_completed_run(s, completed_run(s, other, [1.0]), adapter_folder(tmp_path, 4))
    with pytest.raises(PlainError, match="several versions"):
        get_version("v1")


def test_line_folder_names_are_safe() -> None:
    name = line_folder_name("../../etc/passwd [x]")
    assert "/" not in name and not name.startswith(".")
    assert line_folder_name("a b") != line_folder_name("a-b")


def test_repair_removes_leftovers_and_marks_missing(tmp_path: Path) -> None:
    v1, v2 = _two_versions(tmp_path)
    line_dir = Path(get_version(v1).path).parent
    (line_dir / ".v9.1234.partial").mkdir()
    (line_dir / "v7.tar.gz").write_bytes(b"x")
    stray = versions_root() / "gone-line-abc123"
    (stray / "v1").mkdir(parents=True)
    import shutil
    shutil.rmtree(get_version(v2).path)  # removed by hand
    report = repair_versions()
    assert set(report["removed"]) >= {f"{line_dir.name}/.v9.1234.partial", f"{line_dir.name}/v7.tar.gz",
                                      "gone-line-abc123/v1"}
    assert report["missing"] == [v2]
    assert not stray.exists()
    assert [v.state for v in list_versions()] == ["ready", "missing"]


def test_recording_a_run_twice_gives_one_version(tmp_path: Path) -> None:
    s = open_store()
    run = completed_run(s, config(), [1.0])
    first = record_completed_run(s, run, adapter_folder(tmp_path, 1))
    again = record_completed_run(s, run, adapter_folder(tmp_path, 1))
    assert again.id == first.id and [v.label for v in list_versions()] == ["v1"]
