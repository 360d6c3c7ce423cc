"""Readers (formats, encodings, row numbers) and structure detection."""

from __future__ import annotations

import codecs
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from peftstudio.data.detect import classify_row, detect_structure, to_example, turn_order_problem
from peftstudio.data.encoding import detect_encoding
from peftstudio.data.readers import iter_rows, open_source


@pytest.mark.parametrize(
    ("data", "name", "legacy"),
    [
        (codecs.BOM_UTF8 + b"abc", "utf-8-sig", False),
        ("hi there".encode("utf-16"), "utf-16-le", False),
        (codecs.BOM_UTF16_BE + "hi".encode("utf-16-be"), "utf-16-be", False),
        ("hello".encode("utf-32"), "utf-32-le", False),
        ("plain text here".encode("utf-16-le"), "utf-16-le", False),
        ("caf\u00e9 cr\u00e8me".encode("utf-8"), "utf-8", False),
        ("caf\u00e9 cr\u00e8me ok".encode("cp1252"), "cp1252", True),
        (b"caf\x81 \xe9 more text", "latin-1", True),
    ],
)
def test_detect_encoding(data: bytes, name: str, legacy: bool) -> None:
    enc = detect_encoding(data, complete=True)
    assert (enc.name, enc.legacy) == (name, legacy)


def test_binary_is_detected() -> None:
    assert detect_encoding(b"\x00\x01\x02\x03" * 50).binary


@pytest.mark.parametrize(
    ("filename", "text", "fmt"),
    [
        ("a.jsonl", '{"text": "a"}\n', "jsonl"),
        ("a.json", '{"text": "a"}\n{"text": "b"}\n', "jsonl"),
        ("a.json", '[{"text": "a"}]', "json"),
        ("a.csv", "text,label\nx,y\n", "csv"),
        ("a.tsv", "text\tlabel\nx\ty\n", "tsv"),
        ("a.txt", "one\ntwo\n", "txt"),
        ("noext", "text\tlabel\nx\ty\nz\tw\n", "tsv"),
        ("noext", '[{"text": "a"}]', "json"),
    ],
)
def test_format_detection(tmp_path, filename: str, text: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / filename
    p.write_text(text)
    assert open_source(p).format == fmt


def test_semicolon_csv_is_sniffed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "semi.csv"
    p.write_text("question;answer\nWhat?;That.\nWho?;Them.\n")
    rows = list(iter_rows(open_source(p)))
    assert [r.value for r in rows] == [{"question": "What?", "answer": "That."}, {"question": "Who?", "answer": "Them."}]


def test_csv_rows_are_editor_line_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "m.csv"
    p.write_text('prompt,completion\n"two\nlines",a\n\nb,c\n')
    assert [(r.row, r.value["prompt"]) for r in iter_rows(open_source(p))] == [(2, "two\nlines"), (5, "b")]


def test_text_blocks_and_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocks = tmp_path / "b.txt"
    blocks.write_text("first line\nsecond line\n\n\nthird block\nmore\n")
    assert [(r.row, r.value) for r in iter_rows(open_source(blocks))] == [
        (1, "first line\nsecond line"), (5, "third block\nmore")]
    lines = tmp_path / "l.txt"
    lines.write_text("one\ntwo\nthree\n")
    assert [(r.row, r.value) for r in iter_rows(open_source(lines))] == [(1, "one"), (2, "two"), (3, "three")]


def test_json_array_elements_get_their_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "a.json"
    p.write_text('[\n  {"text": "a"},\n\n  {"text": "b"}, {"text": "c"}\n]')
    assert [r.row for r in iter_rows(open_source(p))] == [2, 4, 4]


def test_json_object_holding_a_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "o.json"
    p.write_text(json.dumps({"version": 1, "meta": {"x": [1]}, "data": [{"text": "a"}, {"text": "b"}]}, indent=1))
    rows = list(iter_rows(open_source(p)))
    assert [r.value["text"] for r in rows] == ["a", "b"]
    lines = p.read_text().splitlines()
    assert all(lines[r.row - 1].strip() == "{" for r in rows)


def test_parquet_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"messages": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]]}), p)
    rows = list(iter_rows(open_source(p)))
    assert rows[0].row == 1 and rows[0].value["messages"][1]["content"] == "yo"


def test_utf16_jsonl_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "w.jsonl"
    p.write_bytes('{"text": "h\u00e9llo"}\n{"text": "b"}\n'.encode("utf-16"))
    assert [r.value["text"] for r in iter_rows(open_source(p))] == ["h\u00e9llo", "b"]


@pytest.mark.parametrize(
    ("row", "name", "columns"),
    [
        ({"messages": [{"role": "user", "content": "a"}]}, "chat", {"messages": "messages"}),
        ({"conversations": [{"from": "human", "value": "a"}]}, "sharegpt", {"conversations": "conversations"}),
        ({"Instruction": "a", "Input": "", "Output": "b"}, "alpaca",
         {"instruction": "Instruction", "output": "Output", "input": "Input"}),
        ({"prompt": "a", "completion": "b"}, "prompt_completion", {"prompt": "prompt", "completion": "completion"}),
        ({"Query": "a", "Response": "b"}, "prompt_completion", {"prompt": "Query", "completion": "Response"}),
        ({"question": "a", "answer": "b", "context": "c"}, "question_answer",
         {"question": "question", "answer": "answer", "context": "context"}),
        ({"Text": "a", "Label": 1}, "classification", {"text": "Text", "label": "Label"}),
        ({"sentence": "a", "sentiment": "pos"}, "classification", {"text": "sentence", "label": "sentiment"}),
        ({"text": "a"}, "text", {"text": "text"}),
        ({"body_text": "a"}, "text", {"text": "body_text"}),
    ],
)
def test_structure_detection(row: dict, name: str, columns: dict) -> None:  # type: ignore[type-arg]
    found = classify_row(row)
    assert found is not None and found.name == name and found.columns == columns


def test_detection_takes_the_majority_with_confidence() -> None:
    rows = [{"prompt": "a", "completion": "b"}] * 3 + [{"text": "x"}]
    s = detect_structure(rows)
    assert s.name == "prompt_completion" and s.confidence == 0.75


def test_mapping_overrides_detection() -> None:
    s = detect_structure([{"Frage": "a", "Antwort": "b"}], mapping={"prompt": "Frage", "completion": "Antwort"})
    assert (s.name, s.confidence) == ("prompt_completion", 1.0)
    assert to_example({"Frage": "a", "Antwort": "b"}, s).example.turns == (("user", "a"), ("assistant", "b"))


def test_unknown_structure() -> None:
    assert detect_structure([{"a": 1, "b": 2}]).name == "unknown"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["user", "assistant"], None),
        (["system", "user", "assistant", "user", "assistant"], None),
        (["user"], ("missing_assistant", "")),
        (["assistant", "user", "assistant"], ("role_order", "it starts with the assistant")),
        (["user", "assistant", "assistant"], ("role_order", "two assistant turns in a row")),
        (["user", "assistant", "user"], ("role_order", "it ends with a user turn")),
        (["user", "system", "assistant"], ("role_order", "a system turn after the start")),
    ],
)
def test_turn_order(roles: list[str], expected: tuple[str, str] | None) -> None:
    assert turn_order_problem(roles) == expected


def test_every_structure_becomes_chat_turns() -> None:
    from peftstudio.data.findings import Structure

    alpaca = to_example({"instruction": "Do", "input": "this", "output": "done", "system": "Be brief"},
                        Structure("alpaca", {"instruction": "instruction", "input": "input", "output": "output",
                                             "system": "system"}))
    assert alpaca.example.turns == (("system", "Be brief"), ("user", "Do\n\nthis"), ("assistant", "done"))
    cls = to_example({"text": "great", "label": 1}, Structure("classification", {"text": "text", "label": "label"}))
    assert cls.example.turns == (("user", "great"), ("assistant", "1")) and cls.example.label == "1"
    text = to_example("just text", Structure("text", {}))
    assert text.example.text_only and text.example.turns == (("user", "just text"),)
