"""Bad input found by trying: a header with no examples under it, and paths that cannot be read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from peftstudio.data import check_file
from peftstudio.errors import PlainError


@pytest.mark.parametrize(("name", "text", "columns"), [
    ("reviews.csv", "text,label\n", "text, label"),
    ("qa.tsv", "question\tanswer\r\n\r\n", "question, answer"),
    ("utf8-bom.csv", "\ufeffinstruction,output\n", "instruction, output"),
])
def test_a_header_alone_is_an_error_not_no_problems(tmp_path: Path, name: str, text: str, columns: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = check_file(path)
    assert report.rows == 0
    errors = [f for f in report.findings if f.severity == "error"]
    assert [f.code for f in errors] == ["header_only"]
    assert columns in errors[0].message and "examples" in errors[0].fix


def test_an_empty_file_is_still_called_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    assert [f.code for f in check_file(path).findings] == ["empty_file"]


def test_a_loop_of_links_gets_a_plain_message(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").symlink_to(tmp_path / "b.jsonl")
    (tmp_path / "b.jsonl").symlink_to(tmp_path / "a.jsonl")
    with pytest.raises(PlainError) as caught:
        check_file(tmp_path / "a.jsonl")
    assert caught.value.code == "file_unreadable" and "loop of links" in caught.value.info.explanation


def test_the_cli_says_so_in_words(tmp_path: Path) -> None:
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    header = tmp_path / "header.csv"
    header.write_text("prompt,completion\n", encoding="utf-8")
    for path, words in ((tmp_path / "loop.csv", "loop of links"), (header, "no examples under them")):
        done = subprocess.run([sys.executable, "-m", "peftstudio.cli.main", "data", "check", str(path)],
                              capture_output=True, text=True, timeout=120)
        out = done.stdout + done.stderr
        assert words in out and "Traceback" not in out and "Something went wrong" not in out
        assert "No problems found" not in out
