"""The trainer plan, the LoRA module, and in-process training: loss falls, exact pause/resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import lightning as L
import pytest
import torch
from safetensors.torch import load_file

from peftstudio.callbacks import PauseReport, StepReport, latest_checkpoint, list_checkpoints
from peftstudio.callbacks.checkpoint_io import read_checkpoint
from peftstudio.engine.module import LoraModule, check_quantization
from peftstudio.engine.trainer import fit, plan_trainer, steps_per_epoch
from peftstudio.errors import PlainError
from peftstudio.records import LoraSettings, TrainingSettings

from .conftest import PauseAt, tiny_config, tiny_llama

Examples = tuple[list[dict[str, list[int]]], list[dict[str, list[int]]]]


@pytest.mark.parametrize(
    ("settings", "batches", "cuda", "expected"),
    [
        ({"max_steps": 7}, 100, False, {"max_steps": 7, "precision": "32-true", "accelerator": "cpu"}),
        ({"epochs": 2.0, "gradient_accumulation": 4}, 10, False, {"max_steps": 6, "steps_per_epoch": 3}),
        ({"epochs": 0.5}, 10, False, {"max_steps": 5}),
        ({"precision": "bf16"}, 10, True, {"precision": "bf16-mixed", "accelerator": "gpu"}),
        ({"precision": "fp16"}, 10, True, {"precision": "16-mixed"}),
        ({"precision": "fp16"}, 10, False, {"precision": "32-true"}),
        ({"eval_every_steps": 5, "gradient_accumulation": 3}, 10, False, {"val_check_interval": 15}),
        # once a pass, planned from an estimate of the pass: at the pass's end (the last partial step included)
        ({"eval_every_steps": 29}, 30, False, {"val_check_interval": 30}),
        ({"eval_every_steps": 31}, 30, False, {"val_check_interval": 30}),
        ({"eval_every_steps": 4, "gradient_accumulation": 3}, 10, False, {"val_check_interval": 10}),
        ({"eval_every_steps": 15}, 30, False, {"val_check_interval": 15}),
        ({"max_grad_norm": None}, 10, False, {"gradient_clip_val": None}),
        ({"devices": 4, "strategy": "fsdp"}, 10, True, {"devices": 4, "strategy": "fsdp"}),
    ],
)
def test_plan_trainer(settings: dict[str, Any], batches: int, cuda: bool, expected: dict[str, Any]) -> None:
    plan = plan_trainer(TrainingSettings(**settings), batches_per_epoch=batches, has_validation=True, cuda=cuda)
    for key, value in expected.items():
        assert getattr(plan, key) == value, key


def test_no_validation_data_turns_validation_off() -> None:
    assert plan_trainer(TrainingSettings(), batches_per_epoch=3, has_validation=False, cuda=False).limit_val_batches == 0


@pytest.mark.parametrize(("batches", "accumulate", "steps"), [(10, 1, 10), (10, 3, 4), (1, 8, 1), (0, 2, 1)])
def test_steps_per_epoch(batches: int, accumulate: int, steps: int) -> None:
    assert steps_per_epoch(batches, accumulate) == steps


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
@pytest.mark.parametrize("quantization", ["4bit", "8bit"])
def test_quantization_without_cuda_is_a_plain_error(quantization: str) -> None:
    with pytest.raises(PlainError) as info:
        check_quantization(quantization)
    assert info.value.code == "bitsandbytes_missing"
    assert any(a.fix_id == "no_quantization" for a in info.value.info.actions)


def test_missing_target_modules_are_a_plain_error() -> None:
    with pytest.raises(PlainError) as info:
        LoraModule(tiny_llama(), LoraSettings(target_modules=("c_attn",)), TrainingSettings())
    assert info.value.code == "config_invalid"


def test_only_the_adapter_trains_and_the_cache_is_off() -> None:
    module = LoraModule(tiny_llama(), LoraSettings(rank=2, alpha=4), TrainingSettings())
    trainable = [n for n, p in module.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert module.model.config.use_cache is False


def _run(tmp: Path, examples: Examples, *, pause_at: int | None = None, micro: int = 0,
         **training: Any) -> tuple[Any, list[Any]]:
    reports: list[Any] = []
    tmp.mkdir(parents=True, exist_ok=True)
    flag = tmp / "pause.request"
    extra = [PauseAt(flag, pause_at, micro)] if pause_at else []
    outcome = fit(tiny_config(**training), tiny_llama(), *examples, pad_id=0, folder=tmp, sink=reports.append,
                  pause_flag=flag, extra_callbacks=extra, monitor_interval=0.05)
    return outcome, reports


def _losses(reports: list[Any]) -> list[tuple[int, float]]:
    return [(r.step, r.loss) for r in reports if isinstance(r, StepReport)]


def test_training_completes_and_loss_falls(tmp_path: Path, examples: Examples) -> None:
    outcome, reports = _run(tmp_path, examples, max_steps=20, learning_rate=3e-2)
    losses = [loss for _, loss in _losses(reports)]
    assert outcome.status == "completed" and outcome.step == 20 and len(losses) == 20
    assert sum(losses[-4:]) / 4 < sum(losses[:4]) / 4 - 0.1
    assert outcome.val_loss is not None and outcome.packing
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    steps = [c.step for c in list_checkpoints(tmp_path / "checkpoints")]
    assert 20 in steps and len(steps) <= 3  # last 2 + best


def test_checkpoints_hold_only_the_adapter_and_the_full_training_state(tmp_path: Path, examples: Examples) -> None:
    _run(tmp_path, examples, max_steps=4)
    ckpt = read_checkpoint(latest_checkpoint(tmp_path / "checkpoints").path)  # type: ignore[union-attr]
    assert ckpt["state_dict"] and all("lora_" in k for k in ckpt["state_dict"])
    assert ckpt["optimizer_states"] and ckpt["lr_schedulers"] and ckpt["loops"]
    assert {"python", "numpy", "torch"} <= set(ckpt["rng_states"])
    assert ckpt["TextDataModule"]["next_batch"] >= 0
    assert any("ProgressCallback" in k for k in ckpt["callbacks"])


@pytest.mark.parametrize(
    ("pause_at", "micro", "training"),
    [
        (3, 0, {}),  # mid-epoch, between checkpoints
        (7, 0, {}),  # the pause lands on the last step of an epoch (16 batches / 2 = 8 steps per epoch)
        (5, 0, {"gradient_accumulation": 1, "packing": False}),  # unpacked batches, a validation step
        # 18 micro-batches an epoch, so with accumulation 8 the steps take 8, 8 and 2 micro-batches;
        # mid-accumulation (requirement 13.1: within one micro-batch, not one optimizer step): the gradients
        # summed so far travel in the checkpoint ...
        (4, 3, {"gradient_accumulation": 8, "max_steps": 8, "checkpoint_every_steps": 3}),
        # ... or, when the step's checkpoint exists, the step's first micro-batches are replayed from it
        (6, 5, {"gradient_accumulation": 8, "max_steps": 8, "checkpoint_every_steps": 2}),
    ],
)
def test_paused_and_resumed_equals_uninterrupted_bit_for_bit(tmp_path: Path, examples: Examples, pause_at: int,
                                                             micro: int, training: dict[str, Any]) -> None:
    _, straight_reports = _run(tmp_path / "a", examples, **training)
    first, first_reports = _run(tmp_path / "b", examples, pause_at=pause_at, micro=micro, **training)
    assert first.status == "paused" and isinstance(first.pause, PauseReport)
    assert first.step == pause_at  # at most one micro-batch after the request
    saved = read_checkpoint(first.pause.checkpoint)
    assert ("accumulated_grads" in saved) == (micro > 0 and pause_at % training.get("checkpoint_every_steps", 4) != 0)
    assert first.pause.checkpoint and Path(first.pause.checkpoint).is_dir()
    assert first.pause.resources["ram_total_bytes"] > 0
    (tmp_path / "b" / "pause.request").unlink()
    second, second_reports = _run(tmp_path / "b", examples, **training)
    assert second.status == "completed" and second.resumed_from == first.step
    assert _losses(first_reports) + _losses(second_reports) == _losses(straight_reports)
    a = load_file(str(tmp_path / "a" / "adapter" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "b" / "adapter" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_pause_before_the_first_step_saves_nothing(tmp_path: Path, examples: Examples) -> None:
    (tmp_path / "pause.request").touch()
    outcome, _ = _run(tmp_path, examples)
    assert outcome.status == "paused" and outcome.step == 0
    assert latest_checkpoint(tmp_path / "checkpoints") is None


def test_listeners_get_every_kind_of_report(tmp_path: Path, examples: Examples,
                                            model_factory: Callable[[], Any]) -> None:
    _, reports = _run(tmp_path, examples, max_steps=6, eval_every_steps=3)
    kinds = {type(r).__name__ for r in reports}
    assert {"StepReport", "ValidationReport", "EtaEstimate", "CheckpointInfo", "TrainerPlan"} <= kinds
    steps = [r for r in reports if isinstance(r, StepReport)]
    assert all(r.tokens > 0 and r.grad_norm is not None and r.tokens_per_second > 0 for r in steps)
    assert steps[0].learning_rate == 0.0 < steps[1].learning_rate  # warm-up starts from zero


def test_sigterm_pauses_at_the_next_step_with_a_checkpoint(tmp_path: Path, examples: Examples) -> None:
    import os
    import signal

    import lightning as L

    class Terminate(L.Callback):
        def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
            if trainer.global_step == 2:
                os.kill(os.getpid(), signal.SIGTERM)  # what the OS sends at shutdown

    before = signal.getsignal(signal.SIGTERM)
    outcome = fit(tiny_config(gradient_accumulation=2), tiny_llama(), *examples, pad_id=0, folder=tmp_path,
                  extra_callbacks=[Terminate()])
    assert outcome.status == "paused" and outcome.pause.reason == "signal SIGTERM"
    assert outcome.step in (2, 3)  # at an optimizer-step boundary, never mid-accumulation
    assert latest_checkpoint(tmp_path / "checkpoints").step == outcome.step  # type: ignore[union-attr]
    assert signal.getsignal(signal.SIGTERM) == before  # handlers put back


def test_deterministic_runs_turn_on_torchs_deterministic_algorithms(tmp_path: Path) -> None:
    from peftstudio.engine.trainer import build_trainer
    from peftstudio.settings import SETTINGS

    assert any(s.key == "deterministic" and s.path == "training.deterministic" for s in SETTINGS)
    before = torch.are_deterministic_algorithms_enabled()
    try:
        plain = plan_trainer(TrainingSettings(), batches_per_epoch=4, has_validation=False, cuda=False)
        build_trainer(plain, [], root_dir=tmp_path)
        assert torch.are_deterministic_algorithms_enabled() == before  # left as it was
        exact = plan_trainer(TrainingSettings(deterministic=True), batches_per_epoch=4, has_validation=False,
                             cuda=False)
        build_trainer(exact, [], root_dir=tmp_path)
        assert exact.deterministic and torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(before)


def test_fewer_evaluations_leave_the_training_losses_unchanged(tmp_path: Path, examples: Examples) -> None:
    """The planner now evaluates once per pass where four would cost too much (issue 21): evaluation must not
    touch training (eval mode draws no dropout masks; the data order has its own generator)."""
    often, reports_often = _run(tmp_path / "often", examples, max_steps=12, eval_every_steps=2)
    rarely, reports_rarely = _run(tmp_path / "rarely", examples, max_steps=12, eval_every_steps=12)
    assert _losses(reports_often) == _losses(reports_rarely)  # bit for bit, dropout 0.1 included
    assert often.status == rarely.status == "completed"


def test_the_base_validation_loss_comes_with_the_first_validation_and_changes_nothing(tmp_path: Path,
                                                                                   examples: Examples) -> None:
    """The base model's validation loss is measured at the first validation with the adapter switched off, not
    before the first step (issue 21: the first step comes seconds sooner): the same number as the untrained
    model's, and the training losses bit for bit those of a run that does not measure it."""
    from peftstudio.callbacks.overfitting import BaseLossReport, OverfittingGuard, base_validation_loss
    from peftstudio.engine.datamodule import TextDataModule

    def run(folder: Path, measure: bool) -> list[Any]:
        reports: list[Any] = []
        fit(tiny_config(max_steps=6, eval_every_steps=3), tiny_llama(), *examples, pad_id=0, folder=folder,
            sink=reports.append, extra_callbacks=[OverfittingGuard([reports.append], measure_base=measure)],
            monitor_interval=60)
        return reports

    measured, plain = run(tmp_path / "measured", True), run(tmp_path / "plain", False)
    assert _losses(measured) == _losses(plain)
    [base] = [r for r in measured if isinstance(r, BaseLossReport)]
    assert not [r for r in plain if isinstance(r, BaseLossReport)]
    kinds = [type(r).__name__ for r in measured if type(r).__name__ in ("StepReport", "BaseLossReport")]
    assert kinds.index("BaseLossReport") == 3  # after step 3, with the first validation
    # the same number as the model before any training
    cfg = tiny_config()
    data = TextDataModule(*examples, micro_batch_size=cfg.training.micro_batch_size,
                          sequence_length=cfg.training.sequence_length, pad_id=0, packing=True, seed=cfg.training.seed)
    module = LoraModule(tiny_llama(), cfg.lora, cfg.training)
    trainer = SimpleNamespace(datamodule=data, world_size=1)
    before, tokens = base_validation_loss(trainer, module)  # type: ignore[arg-type]
    assert base.step == 0 and base.tokens == tokens and base.base_val_loss == pytest.approx(before, rel=1e-6)


def test_the_base_validation_loss_of_the_same_weights_and_batches_is_read_back(tmp_path: Path, examples: Examples,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: a second run on the same model files and validation data reads the base model's validation loss
    from the cache (no forward passes) and reports the very same number; other validation data measures anew."""
    from transformers import LlamaForCausalLM

    import peftstudio.callbacks.overfitting as overfitting
    from peftstudio.callbacks.overfitting import BaseLossReport, OverfittingGuard

    model_dir = tmp_path / "model"
    tiny_llama().save_pretrained(model_dir)
    measured: list[int] = []
    real = overfitting.base_validation_loss
    monkeypatch.setattr(overfitting, "base_validation_loss", lambda t, m: (measured.append(1), real(t, m))[1])

    def base(folder: Path, validation: list[dict[str, list[int]]]) -> float:
        reports: list[Any] = []
        guard = OverfittingGuard([reports.append], base_cache=tmp_path / "cache")
        fit(tiny_config(max_steps=3, eval_every_steps=3), LlamaForCausalLM.from_pretrained(model_dir), examples[0],
            validation, pad_id=0, folder=folder, extra_callbacks=[guard], monitor_interval=60)
        [report] = [r for r in reports if isinstance(r, BaseLossReport)]
        return report.base_val_loss

    first = base(tmp_path / "a", examples[1])
    assert measured == [1] and len(list((tmp_path / "cache").glob("*.json"))) == 1
    assert base(tmp_path / "b", examples[1]) == first and measured == [1]  # read back, not measured
    assert base(tmp_path / "c", examples[1][:4]) != first and measured == [1, 1]


@pytest.mark.parametrize("every, validated", [(3, [3, 6]), (4, [4, 6])])
def test_the_final_validation_is_not_repeated_when_the_last_step_was_just_validated(
        tmp_path: Path, examples: Examples, every: int, validated: list[int]) -> None:
    """A run whose last step falls on its validation cadence (a one-pass run validating once a pass) was
    validated twice at that step (issue 21); otherwise the final validation still comes after training."""
    outcome, reports = _run(tmp_path, examples, max_steps=6, eval_every_steps=every)
    steps = [r.step for r in reports if type(r).__name__ == "ValidationReport"]
    assert steps == validated and outcome.val_loss == [r for r in reports if type(r).__name__ ==
                                                       "ValidationReport"][-1].val_loss


class _Shapes(L.Callback):
    def __init__(self) -> None:
        self.rows: list[int] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: object, batch: Any, batch_idx: int) -> None:
        self.rows.append(int(batch["input_ids"].shape[0]))


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_a_micro_batch_in_one_row_trains_as_its_padded_rows(tmp_path: Path, examples: Examples, dropout: float,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: on the CPU a micro-batch's packed rows go in one row with no padding, attention one example at
    a time (engine.attention) and dropout masks drawn as over the padded rows (engine.dropout). The same seed
    gives the same losses as the padded rows, to float precision, dropout included."""
    import peftstudio.engine.trainer as trainer_module

    def run(folder: Path) -> tuple[Any, list[Any], list[int]]:
        shapes, reports = _Shapes(), []
        config = tiny_config(max_steps=8, eval_every_steps=4)
        config = attrs.evolve(config, lora=attrs.evolve(config.lora, dropout=dropout))
        outcome = fit(config, tiny_llama(), *examples, pad_id=0, folder=folder,
                      sink=reports.append, extra_callbacks=[shapes])
        return outcome, reports, shapes.rows

    flat, flat_reports, flat_rows = run(tmp_path / "flat")
    monkeypatch.setattr(trainer_module, "packing_layout", lambda model, wanted, cuda: (True, False))
    rows, rows_reports, rows_rows = run(tmp_path / "rows")
    assert set(flat_rows) == {1} and max(rows_rows) == 2  # the layouts really differ
    assert flat.packing and rows.packing
    got, want = _losses(flat_reports), _losses(rows_reports)
    assert [s for s, _ in got] == [s for s, _ in want] == list(range(1, 9))
    assert [v for _, v in got] == pytest.approx([v for _, v in want], rel=1e-5, abs=1e-6)
    assert flat.val_loss == pytest.approx(rows.val_loss, rel=1e-5)


def test_the_model_gets_its_attention_back_after_training(tmp_path: Path, examples: Examples) -> None:
    model = tiny_llama()
    model.set_attn_implementation("sdpa")
    fit(tiny_config(max_steps=2), model, *examples, pad_id=0, folder=tmp_path)
    assert model.config._attn_implementation == "sdpa"
