"""Kill -9 a process that is changing versions, at each step and at random moments; the store and the
folders must stay consistent (after the automatic repair) and the next operation must work."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peftstudio.history.archive import archive_version
from peftstudio.history.versions import _file_table, list_versions, record_completed_run, versions_root
from peftstudio.store import open_store
from tests.history.helpers import adapter_folder, completed_run, config

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from peftstudio.store import open_store
from peftstudio.history import versions, archive
op, arg = sys.argv[1], sys.argv[2]
store = open_store()
if op == "create":
    versions.record_completed_run(store, arg, sys.argv[3])
elif op == "loop":  # a new completed run each time, each becoming the next version
    config = store.get_run(arg).config
    while True:
        run = store.create_run(config)
        store.update_run(run.id, status="completed")
        versions.record_completed_run(store, run.id, sys.argv[3])
else:
    getattr(archive, op + "_version")(arg)
"""


def _child(*args: str, crash_at: str | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("PEFTSTUDIO_CRASH_AT", None)
    if crash_at:
        env["PEFTSTUDIO_CRASH_AT"] = crash_at
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run_child(*args: str, crash_at: str) -> None:
    proc = _child(*args, crash_at=crash_at)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()


def assert_consistent() -> None:
    """Every row points at something whole, and nothing on disk is unaccounted for."""
    store = open_store()
    list_versions()  # repairs on the way
    rows = store.query("SELECT * FROM versions")
    referenced = set()
    for r in rows:
        path = versions_root() / r["folder"] if r["folder"] else None
        assert r["state"] in ("ready", "archived", "deleted"), dict(r)
        if r["state"] == "ready":
            manifest = json.loads((path / "version.json").read_text())
            assert _file_table(path) == manifest["files"]
            assert manifest["id"] == r["id"]
            referenced.add(r["folder"])
        elif r["state"] == "archived":
            assert path.is_file() and path.stat().st_size == r["size_bytes"]
            referenced.add(r["folder"])
        else:
            assert r["folder"] == "" and not r["active"]
    on_disk = {f"{d.name}/{c.name}" for d in versions_root().iterdir() if d.is_dir() for c in d.iterdir()}
    assert on_disk == referenced
    actives = store.query("SELECT line, COUNT(*) AS n FROM versions WHERE active = 1 GROUP BY line")
    assert all(a["n"] == 1 for a in actives)


@pytest.mark.parametrize(("point", "expect_version"),
                         [("create:reserved", False), ("create:copied", False), ("create:placed", True)])
def test_kill_during_create(tmp_path: Path, point: str, expect_version: bool) -> None:
    s = open_store()
    run = completed_run(s, config(), [1.0])
    _run_child("create", run, str(adapter_folder(tmp_path, 1)), crash_at=point)
    assert_consistent()
    assert [v.label for v in list_versions()] == (["v1"] if expect_version else [])
    v = record_completed_run(s, completed_run(s, config(), [0.9]), adapter_folder(tmp_path, 2))  # the next works
    assert v.label == ("v2" if expect_version else "v1")
    assert_consistent()


@pytest.mark.parametrize(
    ("op", "point", "state_after"),
    [("archive", "archive:written", "ready"), ("archive", "archive:recorded", "archived"),
     ("restore", "restore:extracted", "archived"), ("restore", "restore:recorded", "ready"),
     ("delete", "delete:recorded", "deleted")],
)
def test_kill_during_archive_restore_delete(tmp_path: Path, op: str, point: str, state_after: str) -> None:
    s = open_store()
    v = record_completed_run(s, completed_run(s, config(), [1.0]), adapter_folder(tmp_path, 1))
    original = _file_table(Path(v.path))
    if op == "restore":
        archive_version(v.id)
    _run_child(op, v.id, crash_at=point)
    assert_consistent()
    after = list_versions(include_deleted=True)[0]
    assert after.state == state_after
    if state_after == "ready":
        assert _file_table(Path(after.path)) == original


def test_kill_at_random_moments_while_writing(tmp_path: Path) -> None:
    s = open_store()
    run = completed_run(s, config(), [1.0])
    adapter = adapter_folder(tmp_path, 1, size=8 * 2**20)  # big enough that copies take a while
    rng = random.Random(1234)
    for _ in range(4):
        proc = _child("loop", run, str(adapter))
        time.sleep(rng.uniform(0.4, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert_consistent()
    numbers = [v.number for v in list_versions()]
    assert numbers, "the writer never got to write a version: kill later"
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
