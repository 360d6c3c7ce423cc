"""The problem corpus: each file gives the expected findings with the right rows and a fix, and never raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.data import CODES, check_file
from peftstudio.data.fixes import apply_fixes
from tests.data.corpus import CASES, Case


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_gives_expected_findings(case: Case, write) -> None:  # type: ignore[no-untyped-def]
    path = write(case.filename, case.data)
    report = check_file(path, **case.kwargs)
    codes = report.codes()
    for code, rows in case.expected.items():
        assert code in codes, f"{case.name}: expected {code}, got {codes}"
        finding = report.finding(code)
        assert finding is not None
        if rows is not None:
            assert finding.rows == rows, f"{case.name}: {code} rows {finding.rows}, expected {rows}"
            assert finding.count == len(rows)
        assert finding.message and finding.fix
        assert finding.fix_id == CODES[code].fix_id
    if not case.expected:
        assert report.ok, f"{case.name}: unexpected errors {report.errors}"
    unexpected_errors = {f.code for f in report.errors} - set(case.expected)
    assert not unexpected_errors, f"{case.name}: unexpected errors {unexpected_errors}"


FIXABLE = [c for c in CASES if c.fixable and any(CODES[code].fix_id for code in c.expected)]


@pytest.mark.parametrize("case", FIXABLE, ids=[c.name for c in FIXABLE])
def test_fix_gives_clean_file_and_keeps_original(case: Case, write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(case.filename, case.data)
    before = path.read_bytes()
    report = check_file(path, **case.kwargs)
    assert report.fix_ids, f"{case.name}: no automatic fix offered"
    out = tmp_path / "cleaned.jsonl"
    result = apply_fixes(path, report.fix_ids, out, **case.kwargs)
    assert path.read_bytes() == before
    assert Path(result.report_path).is_file()
    again = check_file(out, **case.kwargs)
    assert again.ok, f"{case.name}: errors after fixing: {again.errors}"
    for f in again.findings:
        assert f.code not in {"exact_duplicate", "malformed_json", "empty_field", "control_characters",
                              "wrong_column_count", "mixed_structures", "too_long", "legacy_encoding"}, f
