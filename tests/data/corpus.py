"""A corpus of problem files, each with the findings (and rows) the check must report."""

from __future__ import annotations

import codecs
import json
import random
from typing import Any, NamedTuple

from tests.data.conftest import chat, jsonl, pc


class Case(NamedTuple):
    name: str
    filename: str
    data: bytes
    expected: dict[str, tuple[int, ...] | None]  # code -> rows (None: rows not checked)
    kwargs: dict[str, Any] = {}
    fixable: bool = True  # every error has an automatic fix


def _rows(n: int, start: int = 0) -> list[dict[str, str]]:
    return [pc(i) for i in range(start, start + n)]


def _lines(rows: list[Any]) -> list[str]:
    return [json.dumps(r) for r in rows]


def cases() -> list[Case]:
    out: list[Case] = []
    base = _lines(_rows(30))

    truncated = "[\n" + ",\n".join(base[:3]) + ',\n  {"prompt": "cut off", "compl'
    out.append(Case("truncated_json", "cut.json", truncated.encode(), {"malformed_json": (5,)}))

    broken = list(base)
    broken[14] = '{"prompt": "missing a quote, "completion": "x"}'
    out.append(Case("broken_jsonl_line", "broken.jsonl", ("\n".join(broken) + "\n").encode(),
                    {"malformed_json": (15,)}))

    out.append(Case("utf16_bom", "wide.jsonl", codecs.BOM_UTF16_LE + ("\n".join(base) + "\n").encode("utf-16-le"),
                    {}))
    out.append(Case("utf8_bom_csv", "bom.csv",
                    codecs.BOM_UTF8 + ("prompt,completion\n" + "".join(f"p{i},c{i} is here\n" for i in range(25))
                                       ).encode(), {}))

    latin = "prompt,completion\n" + "".join(f"Caf\u00e9 {i}?,Cr\u00e8me br\u00fbl\u00e9e number {i}.\n" for i in range(25))
    out.append(Case("latin1_csv", "latin.csv", latin.encode("latin-1"), {"legacy_encoding": ()}))

    huge = [pc(i) for i in range(25)]
    huge[9] = {"prompt": "Summarise this.", "completion": "word " * 2_000_000}
    out.append(Case("ten_mb_line", "huge.jsonl", jsonl(huge), {"too_long": (10,)}))
    out.append(Case("ten_mb_text_line", "huge.txt", ("short line\n" * 24 + "x" * 10_000_000 + "\n").encode(),
                    {"too_long": (25,)}))

    rng = random.Random(1)
    out.append(Case("random_bytes", "noise.jsonl", bytes(rng.randrange(256) for _ in range(5000)),
                    {"binary_file": ()}, fixable=False))
    out.append(Case("png_named_csv", "picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
                    {"binary_file": ()}, fixable=False))
    out.append(Case("empty_file", "empty.jsonl", b"", {"empty_file": ()}, fixable=False))
    out.append(Case("blank_file", "blank.txt", b"\n \n\t\n", {"empty_file": ()}, fixable=False))

    ragged = "prompt,completion\n" + "".join(f"p{i},c{i} answer\n" for i in range(24))
    ragged_lines = ragged.splitlines()
    ragged_lines[6] = "p5,c5,an extra value"
    out.append(Case("ragged_csv", "ragged.csv", ("\n".join(ragged_lines) + "\n").encode(),
                    {"wrong_column_count": (7,)}))

    multiline = ('prompt,completion\n"first\nprompt",one\n' + "".join(f"p{i},c{i} answer\n" for i in range(22))
                 + "bad,row,here\n")
    out.append(Case("csv_multiline_then_ragged", "multi.csv", multiline.encode(), {"wrong_column_count": (26,)}))

    dup = _rows(25)
    dup.insert(7, dict(dup[2]))
    dup.insert(20, dict(dup[2]))
    out.append(Case("exact_duplicates", "dup.jsonl", jsonl(dup), {"exact_duplicate": (8, 21)}))

    near = _rows(25)
    near.append({"prompt": near[3]["prompt"].upper() + "!!", "completion": near[3]["completion"].replace(":", " -")})
    out.append(Case("near_duplicates", "near.jsonl", jsonl(near), {"near_duplicate": (26,)}))

    mixed: list[Any] = _rows(25)
    mixed[4] = chat("Hello there", "Hi!")
    mixed[11] = {"instruction": "Add", "input": "2 and 2", "output": "4"}
    out.append(Case("mixed_structures", "mixed.jsonl", jsonl(mixed), {"mixed_structures": (5, 12)}))

    empty = _rows(25)
    empty[1] = {"prompt": "What?", "completion": "   "}
    empty[6] = {"prompt": "", "completion": "Something"}
    out.append(Case("empty_fields", "empty_fields.jsonl", jsonl(empty), {"empty_field": (2, 7)}))

    chats = [chat(f"Question number {i} about boats?", f"Answer number {i} about boats.") for i in range(25)]
    chats[3] = {"messages": [{"role": "user", "content": "Anyone there?"}]}
    chats[8] = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                             {"role": "assistant", "content": "c"}]}
    chats[12] = {"messages": [{"role": "assistant", "content": "I start"}, {"role": "user", "content": "ok"},
                              {"role": "assistant", "content": "fine"}]}
    out.append(Case("chat_turn_problems", "turns.jsonl", jsonl(chats),
                    {"missing_assistant": (4,), "role_order": (9, 13)}))

    share = [{"conversations": [{"from": "human", "value": f"Hi {i}, how are the sails?"},
                                {"from": "gpt", "value": f"Sails number {i} are fine."}]} for i in range(25)]
    share[2]["conversations"][1]["from"] = "wizard"
    out.append(Case("sharegpt_unknown_role", "share.json", json.dumps(share, indent=1).encode(),
                    {"role_order": None}))

    ctrl = _rows(25)
    ctrl[5]["completion"] += "\x07\x1b"
    ctrl[9]["prompt"] = "zero\u200bwidth " + ctrl[9]["prompt"]
    out.append(Case("control_characters", "ctrl.jsonl", jsonl(ctrl), {"control_characters": (6, 10)}))

    labels = "text,label\n" + "".join(f"Review {i}: the room {i} was nice,positive\n" for i in range(30)) + \
        "Review 99: cold soup,negative\nReview 98: rude staff,negative\n"
    out.append(Case("label_imbalance", "labels.csv", labels.encode(), {"label_imbalance": ()}))

    pii = _rows(25)
    pii[2]["completion"] = "Write to jane.doe@example.com for details."
    pii[7]["prompt"] = "Call me on +44 20 7946 0958 tomorrow."
    out.append(Case("personal_data", "pii.jsonl", jsonl(pii), {"personal_data": (3, 8)}))

    out.append(Case("too_few_for_profile", "few.jsonl", jsonl(_rows(5)), {"too_few_examples": ()},
                    {"profile": "chatbot"}))

    out.append(Case("unknown_structure", "odd.jsonl", jsonl([{"foo": i, "bar": [i]} for i in range(25)]),
                    {"unknown_structure": ()}, fixable=False))

    typed = _lines(_rows(25))
    typed[3] = "42"
    typed[17] = '["a", "list"]'
    out.append(Case("wrong_row_type", "typed.jsonl", ("\n".join(typed) + "\n").encode(),
                    {"wrong_row_type": (4, 18)}))

    holder = _rows(25)
    del holder[4]["completion"]
    text = json.dumps({"data": holder}, indent=2)
    missing_line = text.splitlines().index('    {', 0)  # first element's line (0-based)
    element_lines = [i + 1 for i, line in enumerate(text.splitlines()) if line == "    {"]
    assert missing_line + 1 == element_lines[0]
    out.append(Case("object_with_list_missing_field", "holder.json", text.encode(),
                    {"missing_field": (element_lines[4],)}))

    long_rows = _rows(25)
    long_rows[2]["completion"] = "long " * 400
    long_rows[20]["completion"] = "longer " * 500
    out.append(Case("too_long_for_context", "long.jsonl", jsonl(long_rows), {"too_long": (3, 21)},
                    {"max_tokens": 256}))

    accented = [json.dumps(dict(r, completion=r["completion"] + " à bientôt"), ensure_ascii=False)
                for r in _rows(25)]
    bad_utf8 = ("\n".join(accented) + "\n").encode().split(b"\n")
    bad_utf8[1] = bad_utf8[1].replace(b"Question", b"Qu\xff\xfestion")
    out.append(Case("undecodable_line", "bytes.jsonl", b"\n".join(bad_utf8), {"undecodable_bytes": (2,)}))

    out.append(Case("damaged_parquet", "bad.parquet", b"PAR1" + bytes(range(256)) * 4 + b"PAR1",
                    {"malformed_file": None}, fixable=False))
    out.append(Case("json_scalar", "scalar.json", b"42\n", {"wrong_row_type": (1,)}, fixable=False))
    return out


CASES = cases()
