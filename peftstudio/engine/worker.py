"""The worker process: ``python -m peftstudio.engine.worker RUN_ID [--db PATH]``.

It loads the model, tokenizer and data of the run's configuration, trains (from the
newest checkpoint, if there is one) and writes everything to the store as it happens.
Tracebacks go to the run's ``worker.log``; the store gets the plain error only.
With a multi-process strategy (``ddp``) Lightning starts this module again for the
other ranks; only the first process writes to the store.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from peftstudio.store.db import Store


def is_primary() -> bool:
    """Whether this is the first process of a (possibly multi-process) run."""
    return all(os.environ.get(k, "0") == "0" for k in ("LOCAL_RANK", "NODE_RANK", "RANK"))


class StoreSink:
    """Writes the callbacks' reports to the store (metrics, readings, events)."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self.step = 0
        self.tokens_seen = 0

    def __call__(self, report: Any) -> None:
        from peftstudio.callbacks import (
            CheckpointInfo,
            EtaEstimate,
            StepReport,
            SystemReading,
            ValidationReport,
        )
        from peftstudio.engine.trainer import TrainerPlan

        s, rid = self.store, self.run_id
        if isinstance(report, StepReport):
            self.step, self.tokens_seen = report.step, report.tokens_seen
            # a diverging step can have a NaN loss or gradient norm, which SQLite cannot store (the guards report it)
            s.add_metrics(rid, report.step, {k: v for k, v in report.metrics().items() if not math.isnan(v)},
                          tokens_seen=report.tokens_seen)
        elif isinstance(report, EtaEstimate):
            s.add_metrics(rid, self.step, {"eta_seconds": report.seconds, "eta_low_seconds": report.low,
                                           "eta_high_seconds": report.high}, tokens_seen=self.tokens_seen)
        elif isinstance(report, ValidationReport):
            s.add_metrics(rid, report.step, report.metrics(), tokens_seen=report.tokens_seen)
        elif isinstance(report, SystemReading):
            s.add_reading(rid, report.as_dict())
        elif isinstance(report, CheckpointInfo):
            s.add_event(rid, "checkpoint", f"Saved a checkpoint at step {report.step}.", step=report.step,
                        data={"path": report.path, "val_loss": report.val_loss})
        elif isinstance(report, TrainerPlan):
            run = s.get_run(rid)
            s.update_run(rid, summary={**run.summary, "total_steps": report.max_steps,
                                       "steps_per_epoch": report.steps_per_epoch})
        else:
            from peftstudio.callbacks.decision import record_report

            record_report(s, rid, report)  # the guards' events (issue 7) and the base model's validation loss


def load_options(training: Any, *, cuda: bool, local_rank: int = 0) -> dict[str, Any]:
    """The base model's `from_pretrained` arguments for a run's training settings.

    * dtype: bf16 as asked; fp16 on a GPU loads the weights in fp32 and lets ``16-mixed`` autocast
      run the matrix products in fp16, so the residual stream never overflows fp16 (models trained
      in bf16 do); on the CPU fp16 is fp32 (no fp16 autocast there).
    * device_map: on a GPU the weights go straight to this rank's device (`local_rank`): no copy
      through host memory, and 4-/8-bit loading does not put every rank on GPU 0.

    Example:
        >>> from peftstudio.records import TrainingSettings
        >>> o = load_options(TrainingSettings(precision="bf16"), cuda=True, local_rank=1)
        >>> str(o["dtype"]), o["device_map"]
        ('torch.bfloat16', {'': 1})
        >>> str(load_options(TrainingSettings(precision="fp16"), cuda=True)["dtype"])
        'torch.float32'
    """
    import torch

    t = training
    if t.precision == "bf16":
        dtype = torch.bfloat16
    elif t.precision == "fp16" and cuda and t.quantization != "none":
        dtype = torch.float16  # only embeddings and norms stay unquantized; PEFT upcasts them to fp32
    else:
        dtype = torch.float32
    options: dict[str, Any] = {"dtype": dtype}
    if cuda:
        options["device_map"] = {"": local_rank}
    if t.quantization != "none":
        from transformers import BitsAndBytesConfig

        compute = torch.float16 if t.precision == "fp16" else torch.bfloat16
        options["quantization_config"] = (
            BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=compute)
            if t.quantization == "4bit" else BitsAndBytesConfig(load_in_8bit=True))
    return options


def load_sources(config: Any) -> tuple[Any, Any, Any]:
    """(model, tokenizer, tokenized splits) for a run configuration."""
    import torch

    from peftstudio.data import build_datasets
    from peftstudio.engine.module import check_quantization
    from peftstudio.models import load_model, load_tokenizer

    t = config.training
    check_quantization(t.quantization)
    ref, remote = config.model.reference, config.model.trust_remote_code
    tokenizer = load_tokenizer(ref, trust_remote_code=remote)
    from peftstudio.models.loading import safe_attention

    options = load_options(t, cuda=torch.cuda.is_available(), local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    try:
        model = load_model(ref, trust_remote_code=remote, **options)
    except (torch.OutOfMemoryError, MemoryError) as exc:  # a smaller micro-batch would not help here
        from peftstudio.errors import make

        raise make("out_of_memory", where=" to load the base model", stage="loading") from exc
    safe_attention(model, packing=t.packing, micro_batch_size=t.micro_batch_size)
    model.train()
    splits = build_datasets(config.data, tokenizer, t.sequence_length, t.seed)
    return model, tokenizer, splits


def _device(devices: int) -> dict[str, Any] | None:
    """The device this run trained on (`peftstudio.history.device_record`); None when it cannot be probed (a
    finished run never fails over it: only the planner's measured speed misses this run)."""
    from peftstudio.hardware import probe_hardware
    from peftstudio.history.speed import device_record

    try:
        return device_record(probe_hardware(), devices)
    except Exception:  # noqa: BLE001 - e.g. the GPU driver gone away after training
        return None


def execute(run_id: str, store: Store) -> str:
    """Train run `run_id` in this process; returns its final status (completed, paused or failed)."""
    from peftstudio.callbacks.checkpoint import latest_checkpoint
    from peftstudio.engine.runs import PAUSE_FLAG
    from peftstudio.errors import as_plain
    from peftstudio.records.convert import to_dict

    primary = is_primary()
    run = store.get_run(run_id)
    folder = Path(run.folder)
    ckpt = latest_checkpoint(folder / "checkpoints")
    if primary:
        store.update_run(run_id, status="running", pid=os.getpid(), started_at=run.started_at or time.time())
        if ckpt is not None:
            # anything recorded after the checkpoint (a killed worker's last steps) is redone: drop it
            store.delete_metrics(run_id, after_step=ckpt.step)
            store.add_event(run_id, "resumed", f"Continuing from the checkpoint at step {ckpt.step}.", step=ckpt.step)
        else:
            store.add_event(run_id, "started", "Loading the model and the data.")
    try:
        model, tokenizer, splits = load_sources(run.config)
        config = run.config
        if primary and config.data.reference is None and getattr(splits, "reference", None) is not None:
            import attrs

            config = attrs.evolve(config, data=attrs.evolve(config.data, reference=splits.reference))
            store.update_run(run_id, config=config)
        sink = StoreSink(store, run_id) if primary else None
        if primary:
            store.add_event(run_id, "training", f"Training on {len(splits.train)} examples "
                                                f"({len(splits.validation)} held out for validation).")
        from peftstudio.engine.session import train_session

        models = [model]  # the session may reload the model with a smaller micro-batch
        del model
        outcome = train_session(config, models, lambda cfg: load_sources(cfg)[0], splits.train, splits.validation,
                                pad_id=int(tokenizer.pad_token_id or 0), folder=folder, sink=sink,
                                pause_flag=folder / PAUSE_FLAG)
    except BaseException as exc:  # every failure becomes a plain error in the store
        traceback.print_exc()
        if not primary:
            raise
        plain = as_plain(exc)
        elapsed = store.get_run(run_id).elapsed_seconds
        store.update_run(run_id, status="failed", error=to_dict(plain.info), pid=None, elapsed_seconds=elapsed)
        store.add_event(run_id, "failed", plain.info.title, data={"code": plain.info.code})
        return "failed"
    if not primary:
        return outcome.status
    run = store.get_run(run_id)
    if outcome.status == "paused":
        report = to_dict(outcome.pause)
        store.update_run(run_id, status="paused", pid=None, elapsed_seconds=outcome.elapsed_seconds,
                         summary={**run.summary, "pause": report, "step": outcome.step})
        store.add_event(run_id, "paused", f"Paused at step {outcome.step}.", step=outcome.step, data=report)
        return "paused"
    values = [m["value"] for m in store.metrics(run_id, "val_loss")]
    summary = {**run.summary, "final_loss": outcome.final_loss, "final_val_loss": outcome.val_loss,
               "best_val_loss": min(values) if values else outcome.val_loss, "steps": outcome.step,
               "tokens_seen": outcome.tokens_seen, "duration_seconds": outcome.elapsed_seconds,
               "tokens_per_second": outcome.tokens_seen / outcome.elapsed_seconds if outcome.elapsed_seconds else None,
               "adapter_path": outcome.adapter_path, "packing": outcome.packing,
               "device": _device(config.training.devices)}  # where it trained: the planner learns its speed
    summary.pop("pause", None)
    store.update_run(run_id, summary=summary)
    from peftstudio.quality import record_quality

    models.clear()  # the trained copy goes before the checks after training load the tuned model
    record_quality(store, run_id)  # the quality score with its parts and suggestions (issue 7)
    version = None
    if outcome.adapter_path:
        from peftstudio.history import record_completed_run

        version = record_completed_run(store, run_id, outcome.adapter_path)  # the next version of its line
    # "completed" comes last: whoever sees it (wait_run, the app) finds the score and the version there
    store.update_run(run_id, status="completed", pid=None, finished_at=time.time(),
                     elapsed_seconds=outcome.elapsed_seconds)
    store.add_event(run_id, "completed", f"Finished after {outcome.step} steps.", step=outcome.step)
    if version is not None:
        store.add_event(run_id, "version", f"Saved as {version.label} of {version.line}.",
                        data={"version_id": version.id})
    return "completed"


#: What a worker loads before it has a run: most of a run's start-up is these imports.
WARM_IMPORTS = ("torch", "lightning.pytorch", "transformers", "peft", "peftstudio.engine.session",
                "peftstudio.engine.module", "peftstudio.engine.datamodule", "peftstudio.data")


def _wait_for_run() -> str | None:
    """A warm worker: load the libraries while the command that started it plans the run, then read
    ``RUN_ID LOG_FILE`` from standard input and write to that log. None when standard input closes first
    (the command gave up: a bad setting, Ctrl-C, or it died)."""
    import importlib

    for name in WARM_IMPORTS:
        importlib.import_module(name)
    line = sys.stdin.readline().strip()
    if not line:
        return None
    run_id, _, log = line.partition(" ")
    if log:
        sys.stdout.flush()
        sys.stderr.flush()
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    return run_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="peftstudio-worker")
    parser.add_argument("run_id", nargs="?")
    parser.add_argument("--db", default=None, help="the store's database file")
    parser.add_argument("--wait", action="store_true",
                        help="load the libraries first, then read the run id (and log file) from standard input")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.wait:
        args.run_id = _wait_for_run()
        if args.run_id is None:
            return 0
    if not args.run_id:
        parser.error("a run id is needed (or --wait)")
    store = Store(args.db) if args.db else Store()
    status = execute(args.run_id, store)
    sys.stdout.flush()
    return 0 if status in ("completed", "paused") else 1


if __name__ == "__main__":  # pragma: no cover - the process entry point
    sys.exit(main())
