"""The quality score from a run's own numbers, and the pure part of fix-and-resume."""

from __future__ import annotations

import math

import pytest

from peftstudio.errors import PlainError
from peftstudio.fixes import FIXES, RESTART, RESUME, STABLE, fixed_config
from peftstudio.quality import RunNumbers, score, spike_count
from tests.guards.helpers import config

GOOD = RunNumbers(train_losses=tuple(2.5 - 0.01 * i for i in range(100)), val_losses=(2.0, 1.8, 1.7),
                  base_val_loss=2.4, final_val_loss=1.7, steps=100, steps_per_epoch=100, train_examples=800)


def test_a_good_run_scores_high_with_every_part_shown() -> None:
    q = score(GOOD)
    assert q.total >= 85
    assert [p.name for p in q.parts] == ["improvement", "stability", "overfitting", "coverage"]
    assert sum(p.max_points for p in q.parts) == 100
    improvement = q.parts[0]
    assert "2.4 -> 1.7" in improvement.measured and "perplexity 11 -> 5.47" in improvement.measured
    assert 2 <= len(q.suggestions) <= 3 and "Quality score" in q.render()


@pytest.mark.parametrize("changes, part, words", [
    ({"steps": 30}, "coverage", "Train longer: the model saw only 30% of the data; one full epoch is about 100"),
    ({"final_val_loss": 2.3, "val_losses": (1.9, 2.1, 2.3)}, "overfitting", "Train for fewer steps"),
    ({"train_losses": tuple([2.0] * 10 + [4.0, 2.0] * 20), "instability_events": 2}, "stability",
     "Lower the learning rate to 6.7e-05"),
    ({"final_val_loss": 2.35, "val_losses": (2.36, 2.35), "train_losses": tuple(2.5 - 0.0015 * i for i in range(100))},
     "improvement", "Raise the learning rate to 0.0004"),
    ({"train_examples": 60}, "coverage", "Add more examples: 60 is few"),
])
def test_weak_parts_cost_points_and_give_specific_suggestions(changes: dict, part: str, words: str) -> None:
    import attrs

    good = {p.name: p.points for p in score(GOOD).parts}
    q = score(attrs.evolve(GOOD, **changes))
    weak = {p.name: p.points for p in q.parts}
    assert weak[part] < good[part]
    assert q.total < score(GOOD).total
    assert any(words in s for s in q.suggestions), q.suggestions


def test_parts_that_cannot_be_measured_are_left_out() -> None:
    q = score(RunNumbers(train_losses=(3.0, 2.5, 2.0), steps=3, steps_per_epoch=3, train_examples=500))
    assert [p.name for p in q.parts] == ["stability", "coverage"]
    assert 0 <= q.total <= 100
    assert score(RunNumbers(train_losses=(float("nan"),) * 12)).parts[0].points == 0


def test_spike_count_ignores_noise() -> None:
    assert spike_count([2.0 + 0.1 * math.sin(i) for i in range(50)]) == 0
    assert spike_count([2.0] * 20 + [5.0] + [2.0] * 5 + [float("nan")]) == 2


# ---------------------------------------------------------------- fixes
@pytest.mark.parametrize("fix_id, field, value, mode", [
    ("lower_learning_rate", "learning_rate", 6.7e-5, STABLE),
    ("enable_clipping", "max_grad_norm", 1.0, STABLE),
    ("halve_batch", "micro_batch_size", 2, RESUME),
    ("no_quantization", "quantization", "none", RESUME),
    ("use_cpu", "devices", 1, RESUME),
    ("shorter_sequences", "sequence_length", 64, RESTART),
    ("resume", "micro_batch_size", 4, RESUME),
    ("restart", "micro_batch_size", 4, RESTART),
])
def test_fixed_config(fix_id: str, field: str, value: object, mode: str) -> None:
    cfg = config(learning_rate=2e-4, max_grad_norm=None, micro_batch_size=4, gradient_accumulation=2)
    new, plan = fixed_config(cfg, fix_id)
    assert getattr(new.training, field) == value and plan.mode == mode
    assert new.training.micro_batch_size * new.training.gradient_accumulation == 8  # effective batch kept
    assert new.model == cfg.model and new.data == cfg.data


def test_fixes_that_cannot_apply_say_why() -> None:
    with pytest.raises(PlainError, match="already 1"):
        fixed_config(config(micro_batch_size=1), "halve_batch")
    with pytest.raises(PlainError, match="not something PEFT Studio can apply"):
        fixed_config(config(), "export_hf")
    with pytest.raises(PlainError) as err:
        fixed_config(config(), "use_4bit")  # no bitsandbytes / CUDA here
    assert err.value.code == "bitsandbytes_missing"
    assert fixed_config(config(), "use_builtin")[0].model.reference == "builtin:smollm2-135m"


def test_every_fix_id_in_the_catalog_that_concerns_a_run_is_applicable() -> None:
    from peftstudio.errors import CATALOG

    run_codes = ("out_of_memory", "dataset_invalid", "no_gpu", "bitsandbytes_missing", "nan_loss", "interrupted_run",
                 "checkpoint_corrupt", "disk_full", "model_offline", "model_not_found")
    ids = {a.fix_id for code in run_codes for a in CATALOG[code].actions if a.fix_id}
    assert ids <= set(FIXES), ids - set(FIXES)


def test_skip_broken_rows_writes_a_cleaned_copy_and_restarts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from peftstudio.engine.runs import run_status
    from peftstudio.errors import make
    from peftstudio.fixes import apply_fix, list_fixes
    from peftstudio.records.convert import to_dict
    from peftstudio.store import open_store

    data = tmp_path / "chat.jsonl"
    good = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Ahoy"}]}'
    data.write_text("\n".join([good, "{broken", good, '{"messages": []}']) + "\n", encoding="utf-8")
    store = open_store()
    run = store.create_run(config(data))
    store.update_run(run.id, status="failed", error=to_dict(make("dataset_invalid", summary="2 rows are broken.").info))
    assert list_fixes(run.id, store).options[0].fix_id == "skip_broken_rows"
    result = apply_fix(run.id, 1, store, start=False)
    assert result.mode == RESTART and result.resumed_from is None
    cleaned = run_status(run.id, store).config.data.path
    assert cleaned != str(data)
    with open(cleaned, encoding="utf-8") as fh:
        assert fh.read().count("Ahoy") == 2
    assert data.read_text(encoding="utf-8").count("{broken") == 1  # the original is untouched
    with pytest.raises(PlainError, match="done by hand"):
        apply_fix(run.id, 2, store, start=False)
