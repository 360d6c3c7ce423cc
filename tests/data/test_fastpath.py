"""The Arrow fast path gives exactly the report of the row-by-row check, on clean and on damaged files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peftstudio.data import fastpath
from peftstudio.data.check import Tally, analyse
from peftstudio.data.dedup import BatchDuplicateFinder
from peftstudio.data.readers import open_source
from tests.data.fresh import run_fresh


def chat(user: str, answer: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}], **extra}


def line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


GOOD = [line(chat(f"Tell me about item {i} and the river.", f"Item {i} sits by the river, {i % 7} miles out."))
        for i in range(40)]

# Lines that each exercise one way a row can leave the plain case.
ODD_LINES = {
    "broken": '{"messages": [{"role": "user", "content": "Hi"}',
    "blank": "",
    "spaces": "   \t ",
    "string_row": '"just a string"',
    "list_row": "[1, 2, 3]",
    "null_messages": '{"messages": null}',
    "missing_messages": '{"other": "value"}',
    "empty_messages": '{"messages": []}',
    "turn_not_object": '{"messages": ["hi", "there"]}',
    "unknown_role": line({"messages": [{"role": "wizard", "content": "a"}, {"role": "assistant", "content": "b"}]}),
    "long_role": line({"messages": [{"role": "the user of this service", "content": "a"},
                                    {"role": "assistant", "content": "b"}]}),
    "human_gpt": line({"messages": [{"role": "Human", "content": "a"}, {"role": "GPT", "content": "b"}]}),
    "no_assistant": line({"messages": [{"role": "user", "content": "only a question"}]}),
    "two_users": line({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                                    {"role": "assistant", "content": "c"}]}),
    "system_first": line({"messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "a"},
                                       {"role": "assistant", "content": "b"}]}),
    "system_late": line({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "s"},
                                      {"role": "assistant", "content": "b"}]}),
    "multi_turn": line({"messages": [{"role": "user", "content": "a1"}, {"role": "assistant", "content": "b1"},
                                     {"role": "user", "content": "a2"}, {"role": "assistant", "content": "b2"}]}),
    "ends_with_user": line({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                         {"role": "user", "content": "c"}]}),
    "empty_content": line(chat("", "answer")),
    "space_content": line(chat("question", "   ")),
    "unicode_space": line(chat("\u3000\u2003", "answer")),
    "leading_space": line(chat("  padded question", "answer")),
    "null_content": '{"messages": [{"role": "user", "content": null}, {"role": "assistant", "content": "b"}]}',
    "number_content": '{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "b"}]}',
    "missing_role": '{"messages": [{"content": "a"}, {"role": "assistant", "content": "b"}]}',
    "from_value": line({"messages": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}),
    "extra_turn_key": line({"messages": [{"role": "user", "content": "a", "name": "x"},
                                         {"role": "assistant", "content": "b"}]}),
    "extra_field": line(chat("with an id", "yes", id=7)),
    "rival_column": line(chat("two chat columns", "yes", chat="not a list")),
    "prompt_row": line({"prompt": "another structure", "completion": "here"}),
    "control": line(chat("bell \u0007 inside", "answer")),
    "zero_width": line(chat("zero\u200bwidth", "answer")),
    "nul_escape": line(chat("nul \u0000 char", "answer")),
    "email": line(chat("write to ann@example.org", "ok")),
    "at_no_email": line(chat("meet @ noon", "ok")),
    "phone": line(chat("call +44 (0)20 7946 0958 now", "ok")),
    "decimal": line(chat("pi is 3.14159265358", "ok")),
    "arabic_digits": line(chat("رقم ٠١٢٣٤٥٦٧٨٩ هنا", "ok")),
    "non_ascii": line(chat("Grüße aus Köln, 東京", "ünïcödé")),
    "emoji_pair": '{"messages": [{"role": "user", "content": "a \\ud83d\\ude00 b"}, '
                  '{"role": "assistant", "content": "b"}]}',
    "lone_surrogate": '{"messages": [{"role": "user", "content": "a \\ud800 b"}, '
                      '{"role": "assistant", "content": "b"}]}',
    "duplicate_key": '{"messages": [{"role": "user", "content": "first", "content": "second"}, '
                     '{"role": "assistant", "content": "b"}]}',
    "two_objects": line(chat("one", "two")) + line(chat("three", "four")),
    "nan_field": line(chat("with nan", "ok"))[:-1] + ', "score": NaN}',
    "deep_field": line(chat("deep", "ok"))[:-1] + ', "x": ' + "[" * 1200 + "]" * 1200 + "}",
    "copy": GOOD[3],
    "near_copy": line(chat("Tell me about item 3 and the river!", "Item 3 sits by the river, 3 miles out")),
    "long": line(chat("word " * 400, "long answer")),
}


def _compare(path: Path, *, chat: bool = True, **kwargs: Any) -> int | None:
    """Assert the fast and the row-by-row check agree on `path`; return how many rows went the fast way.

    `chat`: the file is detected as chat data (so the fast path applies); False: it may not be.
    """
    source = open_source(path)
    slow = analyse(path, fast=False, **kwargs)
    assert fastpath.usable(source, slow.structure) or not chat
    fast = analyse(path, **kwargs)
    assert fast.report == slow.report
    assert fast.rows_by_fix == slow.rows_by_fix
    assert fast.duplicates == slow.duplicates
    return fastpath.run(source, slow.structure, Tally(100), BatchDuplicateFinder())


# Lines Arrow itself refuses or that hide a row boundary: their whole block is read line by line.
BLOCK_BREAKERS = {"broken", "blank", "spaces", "string_row", "list_row", "turn_not_object", "lone_surrogate",
                  "duplicate_key", "two_objects", "number_content", "deep_field", "rival_column"}
# Rows that do not convert plainly: read again one by one, the rest of their block stays on columns.
ROW_BY_ROW = {"long_role", "null_messages", "missing_messages", "empty_messages", "unknown_role", "no_assistant", "two_users",
              "system_late", "ends_with_user", "empty_content", "space_content", "unicode_space", "null_content",
              "missing_role", "from_value", "prompt_row"}


@pytest.mark.parametrize("name", sorted(ODD_LINES))
def test_one_odd_line_among_good_ones(tmp_path: Path, name: str) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join([*GOOD[:20], ODD_LINES[name], *GOOD[20:]]) + "\n", encoding="utf-8")
    columnar = _compare(path, max_tokens=120)
    assert columnar == (0 if name in BLOCK_BREAKERS else len(GOOD) if name in ROW_BY_ROW else len(GOOD) + 1)


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_every_odd_line_in_one_file_across_many_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       ending: str) -> None:
    rng = random.Random(7)
    lines = [*GOOD, *GOOD[:5], *ODD_LINES.values()] * 3
    rng.shuffle(lines)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(ending.join(lines).encode("utf-8", "surrogatepass"))  # no newline after the last line
    for block in (300, 2048, 1 << 20):
        monkeypatch.setattr(fastpath, "BLOCK_BYTES", block)
        _compare(path, max_tokens=150)


def test_damaged_bytes_bom_and_lone_cr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = [g.encode() for g in GOOD]
    data = b"\xef\xbb\xbf" + b"\n".join([*good[:10], good[10][:30] + b"\xff\xfe" + good[10][30:], *good[11:20],
                                         good[20] + b"\r" + good[21], *good[22:]]) + b"\n"
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(fastpath, "BLOCK_BYTES", 512)
    _compare(path)


def test_sharegpt_file(tmp_path: Path) -> None:
    rows = [{"conversations": [{"from": "human", "value": f"q {i} about rivers"},
                               {"from": "gpt", "value": f"a {i} about rivers"}]} for i in range(30)]
    rows[5] = rows[2]
    path = tmp_path / "share.jsonl"
    path.write_text("".join(line(r) + "\n" for r in rows))
    _compare(path)


def test_a_line_longer_than_blocks_can_hold_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join([*GOOD[:5], line(chat("x" * 5000, "y")), *GOOD[5:10]]) + "\n")
    monkeypatch.setattr(fastpath, "BLOCK_BYTES", 256)
    monkeypatch.setattr(fastpath, "MAX_LINE_BYTES", 2000)
    _compare(path)


odd_line = st.sampled_from(sorted(ODD_LINES)).map(ODD_LINES.__getitem__)
good_line = st.integers(0, len(GOOD) - 1).map(GOOD.__getitem__)
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
random_chat = st.builds(lambda a, b: line(chat(a, b)), texts, texts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(good_line | odd_line | random_chat, min_size=1, max_size=40),
       block=st.sampled_from([128, 700, 1 << 16]))
def test_any_mix_of_lines_gives_the_same_report(tmp_path: Path, lines: list[str], block: int) -> None:
    path = tmp_path / "any.jsonl"
    path.write_text("\n".join([GOOD[0], *lines]) + "\n", encoding="utf-8", errors="surrogatepass")
    old = fastpath.BLOCK_BYTES
    fastpath.BLOCK_BYTES = block
    try:
        _compare(path, chat=False, max_tokens=40)  # (mostly other rows can make the file another structure)
    finally:
        fastpath.BLOCK_BYTES = old


_IN_PROCESSES = """
import json, sys
from peftstudio.data import check, fastpath, parallel
from peftstudio.records.convert import to_dict
assert parallel.fork_is_safe()
fastpath.BLOCK_BYTES, fastpath.PROCESS_MIN_BYTES = 2048, 0
fastpath.SLOT_BYTES = int(sys.argv[2])
used = []
for name in ("_run_in_processes",):
    module = fastpath
    real = getattr(module, name)
    def spy(*args, _real=real, _name=name):
        out = _real(*args)
        if out is not False and out is not None:  # (False / None: the work went to threads instead)
            used.append(_name)
        return out
    setattr(module, name, spy)
result = check.analyse(sys.argv[1], max_tokens=150)
print(json.dumps({"report": to_dict(result.report), "fixes": {k: list(v) for k, v in result.rows_by_fix.items()},
                  "used": used}))
"""


@pytest.mark.parametrize("slot_bytes", [1 << 20, 600])
def test_worker_processes_give_the_same_report(tmp_path: Path, slot_bytes: int) -> None:
    """Big files are shared among forked worker processes: every odd line still gets the row-by-row report.

    Their results come back in shared memory, or pickled where they outgrow it (the small slots).
    """
    from peftstudio.records.convert import to_dict

    rng = random.Random(3)
    lines = [*GOOD, *GOOD[:5], *ODD_LINES.values()] * 3
    rng.shuffle(lines)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    forked = run_fresh(_IN_PROCESSES, str(path), str(slot_bytes))
    slow = analyse(path, fast=False, max_tokens=150)
    assert forked["used"] == ["_run_in_processes"]
    assert forked["report"] == json.loads(json.dumps(to_dict(slow.report)))
    assert forked["fixes"] == {k: list(v) for k, v in slow.rows_by_fix.items()}
