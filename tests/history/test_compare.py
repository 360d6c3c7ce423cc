from __future__ import annotations

import pytest

from peftstudio.errors import PlainError
from peftstudio.history.compare import (
    COLUMNS,
    align,
    best_of,
    clone_run_config,
    compare_runs,
    config_differences,
    flatten,
    lower_is_better,
    runs_table,
    sort_rows,
)
from peftstudio.records import LoraSettings
from peftstudio.store import open_store
from tests.history.helpers import completed_run, config


@pytest.mark.parametrize(
    ("name", "lower"),
    [("val_loss", True), ("train_loss", True), ("perplexity", True), ("quality_score", False),
     ("tokens_per_second", False), ("learning_rate", None), ("grad_norm", None)],
)
def test_direction_of_metrics(name: str, lower: bool | None) -> None:
    assert lower_is_better(name) is lower


@pytest.mark.parametrize(
    ("values", "lower", "best"),
    [({"a": 2.0, "b": 1.0}, True, "b"), ({"a": 2.0, "b": 1.0}, False, "a"), ({"a": 1.0, "b": 1.0}, True, "a"),
     ({"a": None, "b": 3.0}, True, "b"), ({"a": None}, True, None), ({"a": 1.0}, None, None)],
)
def test_best_of(values: dict, lower: bool | None, best: str | None) -> None:
    assert best_of(values, lower) == best


def test_align_fills_gaps_with_none() -> None:
    xs, values = align({"a": [(0, 1.0), (10, 0.5)], "b": [(5, 2.0), (10, 1.5)], "c": []})
    assert xs == (0, 5, 10)
    assert values == {"a": (1.0, None, 0.5), "b": (None, 2.0, 1.5), "c": (None, None, None)}


def test_flatten_dotted_paths() -> None:
    assert flatten({"a": {"b": {"c": 1}}, "m": {"x": "y"}, "l": [1]}) == {"a.b.c": 1, "m.x": "y", "l": [1]}


def test_config_differences_list_exactly_the_changed_fields() -> None:
    a = config()
    b = config(learning_rate=1e-3, micro_batch_size=2)
    c = config(lora=LoraSettings(rank=8, target_modules=("q_proj", "v_proj")))
    diffs = {d.path: d.values for d in config_differences([a, b, c])}
    assert diffs == {
        "lora.rank": (16, 16, 8),
        "lora.target_modules": (["q_proj", "k_proj", "v_proj", "o_proj"],) * 2 + (["q_proj", "v_proj"],),
        "training.learning_rate": (2e-4, 1e-3, 2e-4),
        "training.micro_batch_size": (4, 2, 4),
    }
    assert config_differences([a, a]) == []


def test_table_only_completed_runs_and_sorting() -> None:
    s = open_store()
    fast = completed_run(s, config(), [2.0, 1.5, 1.2], elapsed=10, summary={"quality_score": 0.7, "cost": 0.02})
    slow = completed_run(s, config(), [2.0, 1.0, 1.1], elapsed=40, summary={"quality_score": 0.9})
    s.create_run(config())  # queued: not in the table
    rows = runs_table()
    assert {r.run_id for r in rows} == {fast, slow}
    by = {r.run_id: r for r in rows}
    assert by[fast].final_val_loss == 1.2 and by[fast].best_val_loss == 1.2
    assert by[slow].final_val_loss == 1.1 and by[slow].best_val_loss == 1.0
    assert by[fast].tokens_per_second == pytest.approx(300 / 10)
    assert [r.run_id for r in runs_table(sort_by="best_val_loss")] == [slow, fast]
    assert [r.run_id for r in runs_table(sort_by="final_val_loss", descending=True)] == [fast, slow]
    assert [r.run_id for r in runs_table(sort_by="quality_score")] == [slow, fast]
    assert [r.run_id for r in runs_table(sort_by="duration_seconds")] == [fast, slow]
    assert [r.run_id for r in runs_table(sort_by="tokens_per_second")] == [fast, slow]
    assert runs_table(sort_by="cost")[-1].run_id == slow  # unknown cost sorts last
    for column in COLUMNS:
        assert len(runs_table(sort_by=column)) == 2
    with pytest.raises(PlainError, match="unknown column"):
        sort_rows(rows, "colour")


def test_compare_three_runs_best_per_metric_and_diff() -> None:
    s = open_store()
    a = completed_run(s, config(), [2.0, 1.6, 1.4], tokens_per_step=100, elapsed=30)
    b = completed_run(s, config(learning_rate=1e-3), [1.8, 1.2, 1.3], tokens_per_step=100, elapsed=30)
    c = completed_run(s, config(micro_batch_size=8), [1.9, 1.5], tokens_per_step=200, elapsed=10,
                      summary={"quality_score": 0.8})
    cmp = compare_runs([a, b, c])
    charts = {ch.name: ch for ch in cmp.charts}
    assert set(charts) == {"train_loss", "val_loss"}
    val = charts["val_loss"]
    assert val.steps == (1, 2, 3)
    assert val.by_step[c] == (1.9, 1.5, None)
    assert val.tokens == (100, 200, 300, 400)
    assert val.by_tokens[c] == (None, 1.9, None, 1.5)
    assert val.best_run_id == b and val.best_value[b] == 1.2
    assert cmp.best["best_val_loss"] == b
    assert cmp.best["final_val_loss"] == b
    assert cmp.best["tokens_per_second"] == c
    assert cmp.best["duration_seconds"] == c
    assert cmp.best["quality_score"] == c
    assert [(d.path, d.values) for d in cmp.differences] == [
        ("training.learning_rate", (2e-4, 1e-3, 2e-4)), ("training.micro_batch_size", (4, 4, 8))]


def test_compare_refuses_wrong_counts_and_unknown_runs() -> None:
    s = open_store()
    a = completed_run(s, config(), [1.0])
    with pytest.raises(PlainError, match="2 to 5"):
        compare_runs([a])
    with pytest.raises(PlainError, match="2 to 5"):
        compare_runs([a] * 6)
    with pytest.raises(PlainError) as info:
        compare_runs([a, "run-nope"])
    assert info.value.code == "run_not_found"
    with pytest.raises(PlainError, match="twice"):
        compare_runs([a, a])


def test_clone_reproduces_the_config() -> None:
    s = open_store()
    cfg = config(learning_rate=5e-4, seed=7)
    rid = completed_run(s, cfg, [1.0])
    assert clone_run_config(rid) == cfg
    assert clone_run_config(rid[:-2], name="again") == type(cfg)(
        profile=cfg.profile, model=cfg.model, data=cfg.data, lora=cfg.lora, training=cfg.training, name="again")
