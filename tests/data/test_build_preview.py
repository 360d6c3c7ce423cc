"""Dataset building (masking, split, cache, reference) and the preview, on the built-in tiny tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

from peftstudio.data import build_datasets, dataset_reference, preview, sample_path
from peftstudio.data.build import file_sha256, split_groups
from peftstudio.data.template import IGNORE_INDEX
from peftstudio.records import DataSettings
from tests.data.conftest import chat, jsonl, pc


def _decode_trained(tok, example) -> str:  # type: ignore[no-untyped-def]
    return tok.decode([i for i, l in zip(example["input_ids"], example["labels"], strict=True) if l != IGNORE_INDEX])


def test_only_assistant_turns_are_trained(tokenizer, write) -> None:  # type: ignore[no-untyped-def]
    rows = [{"messages": [{"role": "system", "content": "Be a pirate."}, {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Arr! Hello."}, {"role": "user", "content": "Bye"},
                          {"role": "assistant", "content": "Arr! Farewell."}]}]
    path = write("c.jsonl", jsonl(rows))
    splits = build_datasets(DataSettings(path=str(path), validation_fraction=0.0), tokenizer, 256, 1)
    (ex,) = splits.train
    assert len(ex["input_ids"]) == len(ex["labels"])
    assert _decode_trained(tokenizer, ex) == "Arr! Hello.<|im_end|>Arr! Farewell.<|im_end|>"
    prompt = tokenizer.decode([i for i, l in zip(ex["input_ids"], ex["labels"], strict=True) if l == IGNORE_INDEX])
    assert "Be a pirate." in prompt and "Hi" in prompt and "Arr!" not in prompt


def test_text_only_is_trained_whole_and_classification_answers_the_label(tokenizer, write) -> None:  # type: ignore[no-untyped-def]
    path = write("t.txt", "A story about a boat.\nIt sailed.\n\n")  # one block
    (ex,) = build_datasets(DataSettings(path=str(path), validation_fraction=0.0), tokenizer, 256, 1).train
    assert ex["labels"] == ex["input_ids"]
    path = write("c.csv", "text,label\nlovely soup,positive\n")
    (ex,) = build_datasets(DataSettings(path=str(path), validation_fraction=0.0), tokenizer, 256, 1).train
    assert _decode_trained(tokenizer, ex) == "positive<|im_end|>"


def test_long_examples_are_cut_and_broken_rows_skipped(tokenizer, write) -> None:  # type: ignore[no-untyped-def]
    rows = [pc(i) for i in range(10)]
    rows[3]["completion"] = "very long answer " * 200
    text = jsonl(rows).decode().splitlines()
    text[5] = "{broken"
    path = write("l.jsonl", "\n".join(text) + "\n")
    splits = build_datasets(DataSettings(path=str(path), validation_fraction=0.0), tokenizer, 300, 1)
    assert splits.truncated == 1 and splits.skipped == 1
    assert all(len(e["input_ids"]) <= 300 for e in splits.train) and len(splits.train) == 9


def test_split_is_seeded_grouped_and_cached(tokenizer, write) -> None:  # type: ignore[no-untyped-def]
    rows = [chat(f"Question {i} about ships and {i * 7 % 13} sails?", f"Answer {i}: the ship has {i} sails.")
            for i in range(60)]
    for i in range(0, 60, 6):
        rows.append(dict(rows[i]))  # exact copies
    rows.append(chat(rows[1]["messages"][0]["content"].upper(), rows[1]["messages"][1]["content"]))  # near copy
    path = write("s.jsonl", jsonl(rows))
    settings = DataSettings(path=str(path), validation_fraction=0.2)
    a = build_datasets(settings, tokenizer, 128, seed=3)
    assert not a.from_cache and 8 <= len(a.validation) <= 20 and len(a.train) + len(a.validation) == len(rows)
    train_ids = {tuple(e["input_ids"]) for e in a.train}
    assert not any(tuple(e["input_ids"]) in train_ids for e in a.validation)  # copies never straddle
    train_answers = {_decode_trained(tokenizer, e) for e in a.train}
    assert not any(_decode_trained(tokenizer, e) in train_answers for e in a.validation)  # near copies neither
    b = build_datasets(settings, tokenizer, 128, seed=3)
    assert b.from_cache and b.train == a.train and b.validation == a.validation
    c = build_datasets(settings, tokenizer, 128, seed=4)
    assert not c.from_cache and c.validation != a.validation
    assert a.reference.sha256 == file_sha256(path) and a.reference.rows == len(rows)


def test_split_groups_never_empties_training() -> None:
    assert split_groups([1, 2], 0.9, seed=0) == {1} or split_groups([1, 2], 0.9, seed=0) == {2}
    assert split_groups([1, 1, 1], 0.5, seed=0) == set()
    assert split_groups(list(range(100)), 0.0, seed=0) == set()


def test_dataset_reference(write) -> None:  # type: ignore[no-untyped-def]
    path = write("r.jsonl", jsonl([pc(i) for i in range(7)]))
    ref = dataset_reference(path)
    assert (ref.rows, ref.sha256, Path(ref.path)) == (7, file_sha256(path), path.resolve())


def test_no_usable_examples_is_a_plain_error(tokenizer, write) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from peftstudio.errors import PlainError

    path = write("bad.jsonl", "{nope\n")
    with pytest.raises(PlainError) as info:
        build_datasets(DataSettings(path=str(path)), tokenizer, 128, 1)
    assert info.value.code == "dataset_invalid"


def test_preview_marks_trained_part_and_gives_stats(tokenizer) -> None:  # type: ignore[no-untyped-def]
    p = preview(sample_path("pirate_chat.jsonl"), tokenizer, n=3)
    assert len(p.examples) == 3 and p.structure.name == "chat"
    for ex in p.examples:
        trained = "".join(ex.text[s.start:s.end] for s in ex.spans if s.trained)
        assert trained.startswith("Arr!") and trained.endswith("Fair winds, matey!<|im_end|>")
        assert "".join(ex.text[s.start:s.end] for s in ex.spans) == ex.text
        assert 0 < ex.trained_tokens < ex.tokens
    s = p.stats
    assert not s.tokens_estimated and s.usable_rows >= 300
    assert s.tokens_min <= s.tokens_median <= s.tokens_p95 <= s.tokens_max
    assert sum(b.count for b in s.histogram) == s.usable_rows


def test_check_with_tokenizer_gives_dataset_stats(tokenizer) -> None:  # type: ignore[no-untyped-def]
    from peftstudio.data import check_file

    report = check_file(sample_path("pirate_chat.jsonl"), tokenizer=tokenizer, max_tokens=128)
    assert report.dataset_stats is not None and report.dataset_stats.rows == report.stats.usable_rows
    assert "tokens_estimated" not in report.codes()
    assert report.dataset_stats.tokens_p95 <= 128


def test_pirate_sample_teaches_one_clear_behaviour(tokenizer) -> None:  # type: ignore[no-untyped-def]
    from peftstudio.data import check_file

    lines = sample_path("pirate_chat.jsonl").read_text().splitlines()
    assert len(lines) >= 300
    answers = [json.loads(line)["messages"][-1]["content"] for line in lines]
    assert all(a.startswith("Arr! ") and a.endswith(" Fair winds, matey!") for a in answers)
    report = check_file(sample_path("pirate_chat.jsonl"), tokenizer=tokenizer, max_tokens=128)
    assert report.ok and not [f for f in report.findings if f.severity != "info"]
