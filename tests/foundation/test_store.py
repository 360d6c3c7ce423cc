"""The store: migrations, runs, two writer processes, atomic file writes surviving kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.store import Store, atomic_directory, atomic_write_text
from peftstudio.store.db import MIGRATIONS


def _cfg() -> RunConfig:
    return RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="c.jsonl"))


def test_fresh_store_is_at_latest_schema_and_wal(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    assert store.schema_version == len(MIGRATIONS)
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    store.close()
    again = Store(tmp_path / "db.sqlite")  # reopening runs no migration twice
    assert again.schema_version == len(MIGRATIONS)


def test_newer_database_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    store.query(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    store.close()
    with pytest.raises(RuntimeError, match="newer PEFT Studio"):
        Store(tmp_path / "db.sqlite")


def test_run_lifecycle(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    run = store.create_run(_cfg(), name="first")
    assert run.status == "queued" and run.config == _cfg() and Path(run.folder).is_dir()
    store.update_run(run.id, status="running", summary={"loss": 1.5})
    store.add_event(run.id, "guard", "loss rose", step=3, data={"lr": 0.1})
    store.add_metrics(run.id, 3, {"train_loss": 1.25, "lr": 0.001}, tokens_seen=300)
    got = store.get_run(run.id[:-2])  # a unique prefix is enough
    assert got.status == "running" and got.summary == {"loss": 1.5}
    assert store.events(run.id)[0]["data"] == {"lr": 0.1}
    assert [m["value"] for m in store.metrics(run.id, "train_loss")] == [1.25]
    with pytest.raises(ValueError):
        store.update_run(run.id, status="exploded")
    with pytest.raises(KeyError):
        store.get_run("run-nope")


def test_transaction_rolls_back_everything(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    run = store.create_run(_cfg())
    with pytest.raises(RuntimeError):
        with store.transaction() as c:
            c.execute("INSERT INTO events (run_id, time, kind) VALUES (?, 0, 'a')", (run.id,))
            raise RuntimeError("crash in the middle")
    assert store.events(run.id) == []


WRITER = textwrap.dedent(
    """
    import sys
    from peftstudio.store import Store
    store = Store(sys.argv[1])
    for i in range(1000):
        store.add_event(sys.argv[2], "tick", str(i))
    """
)


def test_two_processes_writing_at_once_lose_no_row(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = Store(db)
    run = store.create_run(_cfg())
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), run.id]) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    rows = store.events(run.id)
    assert len(rows) == 2000
    assert sorted(int(r["message"]) for r in rows) == sorted(list(range(1000)) * 2)


SLOW_WRITER = textwrap.dedent(
    """
    import sys, os
    import peftstudio.files as files
    real_fdopen = os.fdopen
    class Slow:
        def __init__(self, fh): self.fh = fh
        def __enter__(self): return self
        def __exit__(self, *a): return self.fh.__exit__(*a)
        def write(self, data):
            for i in range(0, len(data), 1 << 16):
                self.fh.write(data[i:i + (1 << 16)]); self.fh.flush()
                if i == 1 << 20:
                    print("halfway", flush=True)
                    import time; time.sleep(60)
        def flush(self): self.fh.flush()
        def fileno(self): return self.fh.fileno()
    files.os.fdopen = lambda fd, mode: Slow(real_fdopen(fd, mode))
    files.atomic_write_text(sys.argv[1], "new" * 3_000_000)
    """
)


def test_write_interrupted_by_kill_leaves_old_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "config.json"
    atomic_write_text(target, "old contents")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "halfway"  # the writer is in the middle of its write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert target.read_text() == "old contents"


def test_atomic_directory_leaves_nothing_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with atomic_directory(tmp_path / "export") as tmp:
            (tmp / "half.bin").write_bytes(b"x" * 10)
            raise RuntimeError("export failed")
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(tmp_path / "export") as tmp:
        (tmp / "ok.txt").write_text("1")
    with atomic_directory(tmp_path / "export", replace=True) as tmp:
        (tmp / "ok.txt").write_text("2")
    assert (tmp_path / "export" / "ok.txt").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["export"]
    time.sleep(0)
