from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.history.archive import archive_version
from peftstudio.history.disk import archive_saving, check_space, margin_for
from peftstudio.history.versions import record_completed_run, set_active
from peftstudio.store import open_store
from tests.history.helpers import adapter_folder, completed_run, config

MB = 2**20


def _versions(tmp_path: Path, sizes: list[int]) -> list[str]:
    s = open_store()
    ids = []
    for i, size in enumerate(sizes):
        run = completed_run(s, config(), [1.0])
        ids.append(record_completed_run(s, run, adapter_folder(tmp_path, i, size=size)).id)
    return ids


def test_no_prompt_when_enough_is_free() -> None:
    assert check_space(1000 * MB, free_bytes=1000 * MB + margin_for(1000 * MB)) is None


def test_prompt_lists_versions_to_clear_with_sizes(tmp_path: Path) -> None:
    v1, v2, _v3 = _versions(tmp_path, [2 * MB, 3 * MB, 1 * MB])  # v3, the newest, is active
    archive_version(v2)
    prompt = check_space(500 * MB, free_bytes=500 * MB + 100 * MB - 1 * MB, margin_bytes=100 * MB)
    assert prompt is not None
    assert prompt.missing_bytes == 1 * MB
    assert [c.version_id for c in prompt.candidates] == [v1, v2]  # oldest first, the active one left out
    first, second = prompt.candidates
    assert first.size_bytes >= 2 * MB and first.frees_if_deleted == first.size_bytes
    assert second.state == "archived" and second.frees_if_archived == 0
    assert prompt.suggested == (v1,)
    assert prompt.enough_if_all_deleted
    assert "v1" in prompt.message and "delete frees" in prompt.message
    assert prompt.as_error("the export").code == "disk_full"


def test_prompt_says_when_nothing_can_be_cleared() -> None:
    prompt = check_space(10 * MB, free_bytes=0)
    assert prompt is not None and prompt.candidates == () and prompt.suggested == ()
    assert not prompt.enough_if_all_deleted
    assert "free space on the disk yourself" in prompt.message


def test_suggestion_empty_when_all_together_would_not_be_enough(tmp_path: Path) -> None:
    v1, v2 = _versions(tmp_path, [MB, MB])
    set_active(v2)
    prompt = check_space(10_000 * MB, free_bytes=0)
    assert prompt is not None and [c.version_id for c in prompt.candidates] == [v1]
    assert prompt.suggested == () and not prompt.enough_if_all_deleted


@pytest.mark.parametrize(("content", "compressible"), [(b"a" * MB, True), (None, False)])
def test_archive_saving_estimate(tmp_path: Path, content: bytes | None, compressible: bool) -> None:
    import os

    (tmp_path / "w.bin").write_bytes(content if content is not None else os.urandom(MB))
    saving = archive_saving(tmp_path)
    assert (saving > 0.9 * MB) if compressible else (saving < 0.01 * MB)
