"""The store is the only place with SQL, and the low layers import nothing above them."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "peftstudio" / "store"

# a call on a database connection or cursor, or an SQL statement in a string
SQL = re.compile(r"\.(execute|executemany|executescript)\(|\.query\(|sqlite3"
                 r"|\b(SELECT\s+[\w*(]|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)")


def sources() -> list[Path]:
    files = [*(ROOT / "peftstudio").rglob("*.py"), *(ROOT / "app").rglob("*.py")]
    return [f for f in files if STORE not in f.parents]


def test_the_pattern_finds_sql_in_each_form() -> None:
    for line in ('c.execute("x")', 'store.query("x")', '"SELECT id FROM runs"', '"INSERT OR REPLACE INTO t"',
                 '"UPDATE versions SET a = 1"', '"DELETE FROM metrics"', "import sqlite3"):
        assert SQL.search(line), line
    for line in ("def execute(run_id: str) -> str:", "# select the newest version", "Update the run"):
        assert not SQL.search(line), line


def test_no_module_outside_the_store_contains_sql() -> None:
    found = [f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
             for f in sources() for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
             if SQL.search(line)]
    assert found == []
    assert len(sources()) > 50  # the scan did look at the code


def imports_of(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_records_and_files_import_nothing_of_the_store() -> None:
    low = [*(ROOT / "peftstudio" / "records").glob("*.py"), ROOT / "peftstudio" / "files.py"]
    for path in low:
        assert not {m for m in imports_of(path) if m.startswith("peftstudio.store")}, path.name


def test_archive_and_versions_do_not_import_each_other() -> None:
    history = ROOT / "peftstudio" / "history"
    assert "peftstudio.history.versions" in imports_of(history / "archive.py")
    assert "peftstudio.history.archive" not in imports_of(history / "versions.py")


def test_importing_records_does_not_import_the_store() -> None:
    code = "import sys, peftstudio.records, peftstudio.files; print('peftstudio.store' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_run_summary_round_trips_through_the_records_converter_with_schema_version() -> None:
    import pytest

    from peftstudio.records import RecordError, convert
    from peftstudio.runs import RunSummary

    summary = RunSummary(total_steps=12, steps=12, final_loss=1.25, packing=True, pause={"step": 8},
                         extra={"cost": 0.02})
    doc = convert.to_document(summary)
    assert (doc["schema_version"], doc["kind"]) == (convert.SCHEMA_VERSION, "run_summary")
    assert convert.loads(RunSummary, convert.dumps(summary)) == summary
    assert convert.from_document(RunSummary, {"schema_version": 1, "steps": 3}) == RunSummary(steps=3)
    with pytest.raises(RecordError, match="newer PEFT Studio"):
        convert.from_document(RunSummary, {"schema_version": convert.SCHEMA_VERSION + 1, "steps": 3})
    with pytest.raises(RecordError, match="steps"):
        convert.from_dict(RunSummary, {"steps": "many"})
    with pytest.raises(AttributeError):
        summary.steps = 3  # type: ignore[misc]
    assert RunSummary.from_dict(convert.to_dict(summary) | {"new": 1}).extra == {"cost": 0.02, "new": 1}
