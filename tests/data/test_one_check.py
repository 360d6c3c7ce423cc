"""The one data check: batches of rows give each row its own finding, progress is reported, the CLI shows a bar.

The check reads a UTF-8 JSONL file a block of lines at a time (parsed as one JSON array) and looks for
control characters and personal data in a whole batch of texts at once; these tests hold those shortcuts to
what one line and one text give alone.
"""

from __future__ import annotations

import gc
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peftstudio.data import readers
from peftstudio.data.check import analyse, check_file, flagged, row_flags
from peftstudio.data.readers import iter_rows, jsonl_row, open_source


def chat(user: str, answer: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}], **extra}


def line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


GOOD = [line(chat(f"Tell me about item {i} and the river.", f"Item {i} sits by the river, {i % 7} miles out."))
        for i in range(40)]

# Lines that each leave the plain case in their own way.
ODD_LINES = [
    '{"messages": [{"role": "user", "content": "Hi"}',  # broken
    "", "   \t ", "\x1c", '"just a string"', "[1, 2, 3]", "NaN", '{"messages": null}', '{"other": "value"}',
    '{"messages": []}', '{"messages": ["hi", "there"]}',
    line({"messages": [{"role": "wizard", "content": "a"}, {"role": "assistant", "content": "b"}]}),
    line({"messages": [{"role": "Human", "content": "a"}, {"role": "GPT", "content": "b"}]}),
    line({"messages": [{"role": "user", "content": "only a question"}]}),
    line({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                       {"role": "assistant", "content": "c"}]}),
    line({"messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "a"},
                       {"role": "assistant", "content": "b"}]}),
    line({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                       {"role": "user", "content": "c"}]}),
    line(chat("", "answer")), line(chat("question", "   ")), line(chat("\u3000\u2003", "answer")),
    '{"messages": [{"role": "user", "content": null}, {"role": "assistant", "content": "b"}]}',
    '{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "b"}]}',
    '{"messages": [{"content": "a"}, {"role": "assistant", "content": "b"}]}',
    line({"messages": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}),
    line(chat("two chat columns", "yes", chat="not a list")),
    line({"prompt": "another structure", "completion": "here"}),
    line(chat("bell \u0007 inside", "answer")), line(chat("zero\u200bwidth", "answer")),
    line(chat("write to ann@example.org", "ok")), line(chat("call +44 (0)20 7946 0958 now", "ok")),
    line(chat("pi is 3.14159265358", "ok")), line(chat("رقم ٠١٢٣٤٥٦٧٨٩ هنا", "ok")),
    '{"messages": [{"role": "user", "content": "a \\ud800 b"}, {"role": "assistant", "content": "b"}]}',
    '{"messages": [{"role": "user", "content": "first", "content": "second"}, {"role": "assistant", "content": "b"}]}',
    line(chat("one", "two")) + line(chat("three", "four")),
    line(chat("one", "two")) + ", " + line(chat("three", "four")),
    line(chat("deep", "ok"))[:-1] + ', "x": ' + "[" * 1200 + "]" * 1200 + "}",
    "\ufeff" + line(chat("a mark inside the file", "ok")),
    GOOD[3], line(chat("Tell me about item 3 and the river!", "Item 3 sits by the river, 3 miles out")),
    line(chat("word " * 400, "long answer")),
]


def mixed_file(path: Path, ending: str = "\n", last_newline: bool = True) -> Path:
    rng = random.Random(7)
    lines = [*GOOD, *GOOD[:5], *ODD_LINES] * 3
    rng.shuffle(lines)
    data = ending.join(lines) + (ending if last_newline else "")
    path.write_bytes(data.encode("utf-8", "surrogatepass"))
    assert open_source(path).encoding.codec == "utf-8"
    return path


def one_line_at_a_time(path: Path) -> list[tuple[Any, ...]]:
    """What each line of a UTF-8 JSONL file gives alone (the reference for reading a block at a time)."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    out = []
    for number, content in enumerate(lines, 1):
        ended = number < len(lines)
        if len(content) >= readers.MAX_LINE_BYTES:
            out.append((number, None, "line_too_long", ""))
            continue
        row = jsonl_row(number, content + b"\n" if ended else content)
        if row is not None:
            out.append(tuple(row))
    return out


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("last_newline", [True, False])
@pytest.mark.parametrize("block", [7, 300, 4096, 1 << 20])
def test_reading_a_block_at_a_time_gives_each_line_its_own_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                ending: str, last_newline: bool, block: int) -> None:
    path = mixed_file(tmp_path / "mixed.jsonl", ending, last_newline)
    monkeypatch.setattr(readers, "BLOCK_BYTES", block)
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1500)  # (the 400-word line is too long to read)
    rows = [tuple(r) for r in iter_rows(open_source(path))]
    assert rows == one_line_at_a_time(path)
    assert {r[2] for r in rows} >= {None, "malformed_json", "wrong_row_type", "line_too_long"}


def test_lines_that_only_parse_together_are_each_read_alone(tmp_path: Path) -> None:
    """Three broken lines that make valid JSON when joined with commas (three values, then two halves)."""
    path = tmp_path / "halves.jsonl"
    path.write_text("\n".join([*GOOD[:5], '{"a": 1}, "x", {"b": 2}', '{"c": [{}', '{}]}', *GOOD[5:]]) + "\n")
    rows = [tuple(r) for r in iter_rows(open_source(path))]
    assert rows == one_line_at_a_time(path)
    assert [(r[0], r[2]) for r in rows if r[2]] == [(6, "malformed_json"), (7, "malformed_json"), (8, "malformed_json")]


def test_bad_bytes_send_only_their_block_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bytes.jsonl"
    good = [g.encode() for g in GOOD] * 50  # (the bad bytes lie past the head the encoding is decided from)
    bad = good[1990][:30] + b"\xff\xfe" + good[1990][30:]
    path.write_bytes(b"\n".join([*good[:1990], bad, *good[1991:]]) + b"\n")
    assert open_source(path).encoding.codec == "utf-8"
    monkeypatch.setattr(readers, "BLOCK_BYTES", 600)
    rows = list(iter_rows(open_source(path)))
    assert [tuple(r) for r in rows] == one_line_at_a_time(path)
    assert [(r.row, r.problem) for r in rows if r.problem] == [(1991, "undecodable_bytes")]


def test_the_report_does_not_depend_on_how_the_rows_are_batched(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = mixed_file(tmp_path / "mixed.jsonl")
    whole = analyse(path, max_tokens=150)
    codes = set(whole.report.codes())
    assert {"malformed_json", "control_characters", "personal_data", "too_long", "exact_duplicate",
            "near_duplicate", "role_order", "mixed_structures"} <= codes
    for block in (64, 700):
        monkeypatch.setattr(readers, "BLOCK_BYTES", block)
        again = analyse(path, max_tokens=150)
        assert again.report == whole.report
        assert again.rows_by_fix == whole.rows_by_fix
        assert again.duplicates == whole.duplicates


def test_findings_come_in_the_order_of_their_first_rows(tmp_path: Path) -> None:
    rows = [chat("a long question " * 60, "ok"), chat("a bell \u0007 here", "ok"),
            *(chat(f"question {i}", f"answer {i}") for i in range(30))]
    path = tmp_path / "order.jsonl"
    path.write_text("".join(line(r) + "\n" for r in rows))
    report = check_file(path, max_tokens=100)
    warnings = [f.code for f in report.findings if f.severity == "warning"]
    assert warnings == ["too_long", "control_characters"]
    assert report.finding("too_long").rows == (1,) and report.finding("control_characters").rows == (2,)


_ALPHABET = "ab Z@.-()\t\n0123456789\u0660\u0661\uff11\u00e9\u6771\u200b\ufeff\x07\x00\x1f\x7f"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(_ALPHABET), max_size=40), max_size=30))
def test_a_batch_of_texts_is_flagged_as_each_text_alone(texts: list[str]) -> None:
    assert list(flagged(texts)) == [(i, *flag) for i, text in enumerate(texts) for flag in row_flags(text)]


def test_flagged_finds_every_kind_among_many_plain_texts() -> None:
    texts = [f"plain text number {i}." for i in range(5000)]
    odd = {17: "mail ann@example.org", 300: "call 020 7946 0958", 4999: "a bell \u0007",
           2500: "东京 ٠١٢٣٤٥٦٧٨٩ x", 4000: "zero\u200bwidth", 4200: "tel:123456789"}
    for i, text in odd.items():
        texts[i] = text
    found = {i for i, _code, _detail in flagged(texts)}
    assert found == set(odd)


def test_progress_is_reported_as_the_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = mixed_file(tmp_path / "mixed.jsonl")
    monkeypatch.setattr(readers, "BLOCK_BYTES", 2048)
    calls: list[tuple[int, int]] = []
    report = check_file(path, progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert len(calls) > 5 and calls[-1] == (size, size)
    assert all(total == size for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert report == check_file(path)


@pytest.mark.parametrize("name", ["qa.csv", "stories.txt", "alpaca.json", "prompt_completion.parquet"])
def test_progress_ends_at_the_file_size_for_every_format(name: str) -> None:
    from peftstudio.data.samples import sample_path

    path = sample_path(name)
    calls: list[tuple[int, int]] = []
    check_file(path, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (path.stat().st_size,) * 2


@pytest.mark.parametrize("enabled", [True, False])
def test_the_check_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    path = mixed_file(tmp_path / "mixed.jsonl")
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        check_file(path)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_the_cli_shows_a_progress_bar_while_checking(tmp_path: Path) -> None:
    from rich.console import Console

    from peftstudio.cli.data import progress_bar

    path = mixed_file(tmp_path / "mixed.jsonl")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with progress_bar(str(path), console) as progress:
        report = check_file(path, progress=progress)
    shown = screen.getvalue()
    assert "Checking mixed.jsonl" in shown and "━" in shown
    assert report.rows > 100
    quiet = io.StringIO()
    with progress_bar(str(path), Console(file=quiet, force_terminal=False)) as progress:
        check_file(path, progress=progress)
    assert quiet.getvalue() == ""  # no terminal: no bar (the report alone goes to a log)
