"""Fixes in detail, and the `peftstudio data` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peftstudio.cli.main import main
from peftstudio.data import apply_fixes, check_file, sample_path
from peftstudio.errors import PlainError
from tests.data.conftest import jsonl, pc


@pytest.fixture
def dirty(write) -> Path:  # type: ignore[no-untyped-def]
    rows = [json.dumps(pc(i)) for i in range(30)]
    rows[2] = "{not json"
    rows[5] = json.dumps({"prompt": "  ", "completion": "x"})
    rows[9] = rows[8]
    rows[12] = json.dumps({"prompt": "bell\x07", "completion": "ok"})
    rows[20] = json.dumps({"prompt": "long", "completion": "word " * 3000})
    return write("dirty.jsonl", "\n".join(rows) + "\n")  # type: ignore[no-any-return]


def test_fix_writes_clean_file_report_and_keeps_original(dirty: Path, tmp_path: Path) -> None:
    before = dirty.read_bytes()
    report = check_file(dirty)
    assert set(report.codes()) >= {"malformed_json", "empty_field", "exact_duplicate", "control_characters",
                                   "too_long"}
    out = tmp_path / "clean.jsonl"
    result = apply_fixes(dirty, report.fix_ids, out)
    assert dirty.read_bytes() == before
    assert result.rows_in == 30 and result.rows_out == 26
    assert result.dropped == {"drop_malformed": 1, "drop_empty": 1, "remove_duplicates": 1, "drop_too_long": 1}
    assert result.changed == {"strip_control_chars": 1}
    again = check_file(out)
    assert again.ok and not {"exact_duplicate", "control_characters", "too_long"} & set(again.codes())
    doc = json.loads(Path(result.report_path).read_text())
    assert doc["rows_out"] == 26 and doc["check"]["rows"] == 30 and len(doc["original_sha256"]) == 64


def test_truncate_keeps_the_row_but_fits_it(dirty: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.jsonl"
    result = apply_fixes(dirty, ["truncate_too_long", "drop_malformed"], out)
    assert result.changed["truncate_too_long"] == 1
    assert "too_long" not in check_file(out).codes()
    assert any(json.loads(line)["prompt"] == "long" for line in out.read_text().splitlines())


@pytest.mark.parametrize("suffix", [".json", ".csv", ".tsv", ".parquet", ".jsonl"])
def test_cleaned_file_in_any_format_rechecks(dirty: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"clean{suffix}"
    apply_fixes(dirty, ["malformed_json", "empty_field", "exact_duplicate", "too_long"], out)
    again = check_file(out)
    assert again.ok and again.structure.name == "prompt_completion" and again.rows == 26


def test_map_columns_and_latin1_become_standard_utf8(write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = write("de.csv", ("Frage;Antwort\n" + "".join(f"Caf\u00e9 {i}?;Ja {i}.\n" for i in range(25))).encode("cp1252"))
    report = check_file(src, mapping={"prompt": "Frage", "completion": "Antwort"})
    assert "legacy_encoding" in report.codes() and report.structure.name == "prompt_completion"
    out = tmp_path / "std.jsonl"
    apply_fixes(src, ["map_columns", "convert_to_utf8"], out, mapping={"prompt": "Frage", "completion": "Antwort"})
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first == {"prompt": "Caf\u00e9 0?", "completion": "Ja 0."}
    assert check_file(out).encoding == "UTF-8"


def test_validation_overlap_is_found_and_fixed(write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    train = write("train.jsonl", jsonl([pc(i) for i in range(30)]))
    val = write("val.jsonl", jsonl([pc(4), pc(17), pc(99)]))
    report = check_file(train, validation_path=val)
    assert report.finding("validation_overlap").rows == (5, 18)
    out = tmp_path / "t.jsonl"
    apply_fixes(train, ["validation_overlap"], out, validation_path=val)
    assert "validation_overlap" not in check_file(out, validation_path=val).codes()


def test_fix_refuses_to_overwrite_the_original_and_unknown_fixes(dirty: Path) -> None:
    with pytest.raises(PlainError):
        apply_fixes(dirty, ["drop_malformed"], dirty)
    with pytest.raises(PlainError) as info:
        apply_fixes(dirty, ["make_it_good"], dirty.with_name("x.jsonl"))
    assert "drop_malformed" in info.value.info.explanation


def test_missing_file_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(PlainError) as info:
        check_file(tmp_path / "nope.jsonl")
    assert info.value.code == "file_not_found"


# ---------------------------------------------------------------- CLI

def test_cli_check_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "check", str(sample_path("alpaca.json")), "--profile", "chatbot", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"format", "encoding", "structure", "rows", "findings", "stats"} <= set(doc)
    assert doc["format"] == "json" and doc["encoding"] == "UTF-8" and doc["rows"] == 5
    assert doc["structure"]["name"] == "alpaca" and doc["structure"]["columns"]["instruction"] == "instruction"
    few = next(f for f in doc["findings"] if f["code"] == "too_few_examples")
    assert "100" in few["message"] and few["severity"] == "warning"


def test_cli_check_exit_code_and_text(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(dirty)]) == 1
    out = capsys.readouterr().out
    assert "[error]" in out and "rows: 3" in out and "peftstudio data fix" in out


def test_cli_check_missing_file_is_plain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "check", str(tmp_path / "nope.csv")]) == 2
    assert "File not found" in capsys.readouterr().err


def test_cli_preview_marks_trained_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "preview", str(sample_path("pirate_chat.jsonl")), "-n", "2", "--model",
                 "builtin:tiny-llama"]) == 0
    out = capsys.readouterr().out
    assert out.count("[[Arr!") == 2 and "<|im_start|>user" in out and "median" in out


def test_cli_fix(dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clean.jsonl"
    before = dirty.read_bytes()
    assert main(["data", "fix", str(dirty), "--apply", "malformed_json,drop_empty,remove_duplicates,too_long",
                 "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows_out"] == 26 and dirty.read_bytes() == before
    assert main(["data", "check", str(out), "--json"]) == 0
