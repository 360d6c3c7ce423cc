"""The GPU check: what issue 23 fixed, measured on a real CUDA card (run through gpu_check.sh).

Every step prints one JSON line ``{"step": ..., "ok": ..., ...}``; a failing step prints its
error and the others still run; the exit status is 1 when any step failed. No network and no
weights: models of real shapes (SmolLM2-135M, Gemma 3 270M, Llama 3.2 1B) get random weights
on the spot. ``--dry-run`` runs the same steps on the CPU with tiny shapes (the tests do).

Steps: probe, packing (bf16), lora_bf16 (tokens/s ours vs the Hugging Face Trainer + PEFT,
peak memory vs our estimate), pause_resume (memory released, resumed run completes),
fp16 (no false gradient explosions), qlora_4bit (estimate vs peak; skipped without
bitsandbytes), playground (first token and tokens/s).

Example:
    python benchmarks/gpu_check.py --dry-run
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Real shapes (from the models' config.json files); the dry run shrinks them.
SHAPES: dict[str, dict[str, Any]] = {
    "smollm2-135m": dict(kind="llama", vocab_size=49152, hidden_size=576, intermediate_size=1536,
                         num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                         tie_word_embeddings=True, rope_theta=100000.0),
    "gemma-3-270m": dict(kind="gemma3", vocab_size=262144, hidden_size=640, intermediate_size=2048,
                         num_hidden_layers=18, num_attention_heads=4, num_key_value_heads=1, head_dim=256,
                         sliding_window=512, tie_word_embeddings=True),
    "llama-3.2-1b": dict(kind="llama", vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                         num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                         tie_word_embeddings=True, rope_theta=500000.0),
}
TINY = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2)
GIB = 2**30


class Check:
    """The run's settings: device, shapes and sizes, and where JSON lines go."""

    def __init__(self, dry_run: bool, out: Path | None) -> None:
        self.dry_run = dry_run
        self.cuda = torch.cuda.is_available() and not dry_run
        self.device = torch.device("cuda", 0) if self.cuda else torch.device("cpu")
        self.out = out
        self.failed = False
        self.steps = 4 if dry_run else 30
        self.seq = 32 if dry_run else 512
        self.micro = 2 if dry_run else 4
        self.tmp = Path(tempfile.mkdtemp(prefix="gpu-check-"))

    def emit(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str)
        print(line, flush=True)
        if self.out is not None and not self.dry_run:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            with self.out.open("a", encoding="utf-8") as f:
                f.write(line + "\n")

    def run(self, name: str, fn: Callable[[Check], dict[str, Any]]) -> None:
        start = time.perf_counter()
        try:
            result = {"step": name, "ok": True, **fn(self)}
        except Exception as exc:  # noqa: BLE001 - one step failing must not hide the others
            traceback.print_exc(file=sys.stderr)
            result = {"step": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.perf_counter() - start, 2)
        self.failed |= not result["ok"]
        self.emit(result)
        release()

    # ------------------------------------------------------------ models and data
    def model(self, name: str, dtype: torch.dtype = torch.float32) -> Any:
        """A random-weight model of `name`'s shape (tiny in the dry run) on the check's device."""
        from transformers import Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM

        shape = {k: v for k, v in SHAPES[name].items() if k != "kind"}
        if self.dry_run:
            shape.update(TINY)
            if "head_dim" in shape:
                shape["head_dim"] = 16
        torch.manual_seed(0)
        if SHAPES[name]["kind"] == "gemma3":
            config: Any = Gemma3TextConfig(max_position_embeddings=4096, **shape)
            cls: Any = Gemma3ForCausalLM
        else:
            config, cls = LlamaConfig(max_position_embeddings=4096, **shape), LlamaForCausalLM
        config.dtype = dtype
        with torch.device(self.device):
            model = cls(config).to(dtype)
        return model

    def examples(self, n: int, vocab: int, seed: int = 0) -> list[dict[str, list[int]]]:
        rng = random.Random(seed)
        out = []
        for _ in range(n):
            ids = [rng.randrange(3, vocab) for _ in range(rng.randint(self.seq // 4, self.seq))]
            out.append({"input_ids": ids, "labels": [-100] * 4 + ids[4:]})
        return out

    def config(self, **training: Any) -> Any:
        from peftstudio.records.config import (
            DataSettings,
            LoraSettings,
            ModelChoice,
            RunConfig,
            TrainingSettings,
        )

        values: dict[str, Any] = dict(learning_rate=2e-4, max_steps=self.steps, micro_batch_size=self.micro,
                                      gradient_accumulation=1, sequence_length=self.seq, eval_every_steps=1000,
                                      checkpoint_every_steps=max(2, self.steps // 3), keep_checkpoints=2,
                                      warmup_ratio=0.0, precision="bf16")
        values.update(training)
        return RunConfig(profile="chatbot", model=ModelChoice("gpu-check"), data=DataSettings(path="unused.jsonl"),
                         lora=LoraSettings(rank=16, alpha=32, dropout=0.05, target_modules=("q_proj", "v_proj")),
                         training=TrainingSettings(**values))

    def estimate(self, model: Any, config: Any) -> Any:
        from peftstudio.models.catalog import spec_from_config
        from peftstudio.planner.memory import estimate_memory

        t, lora = config.training, config.lora
        free = torch.cuda.mem_get_info(0)[0] if self.cuda else 8 * GIB
        return estimate_memory(spec_from_config(model.config.to_dict()), precision=t.precision,
                               quantization=t.quantization, micro_batch_size=t.micro_batch_size,
                               sequence_length=t.sequence_length, lora_rank=lora.rank,
                               target_modules=lora.target_modules, available_bytes=int(free), lora_dropout=lora.dropout,
                               device="cuda" if self.cuda else "cpu")


def release() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_bytes() -> int | None:
    return int(torch.cuda.max_memory_reserved()) if torch.cuda.is_available() else None


def nvml_used_bytes() -> dict[str, int] | None:
    """GPU 0's memory in use as NVML (the driver) sees it, the device's and this process's; None without NVML."""
    import os

    from peftstudio.hardware.probe import nvml

    pynvml = nvml()
    if pynvml is None or not torch.cuda.is_available():
        return None
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    out = {"device": int(pynvml.nvmlDeviceGetMemoryInfo(handle).used)}
    with contextlib.suppress(Exception):  # containers may hide pids
        procs = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
        out["process"] = int(sum((p.usedGpuMemory or 0) for p in procs if p.pid == os.getpid()))
    return out


# ---------------------------------------------------------------- steps
def step_probe(c: Check) -> dict[str, Any]:
    from peftstudio.hardware.probe import probe_hardware

    hw = probe_hardware()
    gpu = hw.gpus[0] if hw.gpus else None
    return {"name": gpu.name if gpu else "cpu", "compute_capability": gpu.compute_capability if gpu else None,
            "bf16": gpu.bf16 if gpu else None, "bf16_tflops": gpu.bf16_tflops if gpu else None,
            "memory_total_bytes": gpu.memory_total_bytes if gpu else hw.ram_total_bytes,
            "torch": torch.__version__, "cuda": torch.version.cuda}


def step_packing(c: Check) -> dict[str, Any]:
    from peftstudio.engine.packing import packing_supported

    result = {name: packing_supported(c.model(name, torch.bfloat16)) for name in SHAPES}
    if not all(result.values()):
        raise AssertionError(f"packing turned off in bf16: {result}")
    return {"packing_on": result}


def _our_run(c: Check, model: Any, config: Any, folder: Path, **kw: Any) -> tuple[Any, list[Any]]:
    from peftstudio.engine.trainer import fit

    reports: list[Any] = []
    vocab = model.config.vocab_size
    train = c.examples(c.micro * (c.steps + 2) * 2, vocab)
    outcome = fit(config, model, train, c.examples(4, vocab, seed=1), pad_id=0, folder=folder,
                  sink=reports.append, monitor_interval=1e9, save_adapter=False, **kw)
    return outcome, reports


def _hf_run(c: Check, model: Any, config: Any) -> float:
    """Tokens/s of the Hugging Face Trainer + PEFT on the same model, data and batch (padded rows)."""
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainingArguments

    from peftstudio.engine.packing import collate_padded

    t, lora = config.training, config.lora
    model = get_peft_model(model, LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                             target_modules=list(lora.target_modules), task_type="CAUSAL_LM"))
    model.train()
    data = c.examples(t.micro_batch_size * t.max_steps, model.config.vocab_size)

    def collate(rows: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        batch = collate_padded(rows, pad_id=0)
        batch.pop("token_count")
        return batch

    args = TrainingArguments(output_dir=str(c.tmp / "hf"), per_device_train_batch_size=t.micro_batch_size,
                             max_steps=t.max_steps, learning_rate=t.learning_rate, bf16=c.cuda, report_to=[],
                             logging_steps=10**6, save_strategy="no", use_cpu=not c.cuda, dataloader_num_workers=0,
                             remove_unused_columns=False, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate)
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its summary: keep stdout JSON lines
        trainer.train()
    if c.cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return sum(len(e["input_ids"]) for e in data) / seconds


def step_lora_bf16(c: Check) -> dict[str, Any]:
    names = ["smollm2-135m"] if c.dry_run else ["smollm2-135m", "llama-3.2-1b"]
    out: dict[str, Any] = {}
    for name in names:
        config = c.config(packing=False)
        model = c.model(name, torch.bfloat16 if c.cuda else torch.float32)
        estimate = c.estimate(model, config)
        release()
        outcome, _ = _our_run(c, model, config, c.tmp / f"lora-{name}")
        peak = peak_bytes()
        del model
        release()
        hf = _hf_run(c, c.model(name, torch.bfloat16 if c.cuda else torch.float32), config)
        ours = outcome.tokens_seen / outcome.elapsed_seconds if outcome.elapsed_seconds else None
        out[name] = {"tokens_per_second_ours": ours, "tokens_per_second_hf_trainer": hf,
                     "speed_ratio": (ours / hf) if ours and hf else None, "peak_reserved_bytes": peak,
                     "estimated_peak_bytes": estimate.estimated_peak_bytes,
                     "estimate_ratio": (estimate.estimated_peak_bytes / peak) if peak else None,
                     "final_loss": outcome.final_loss}
        if outcome.final_loss is None or not math.isfinite(outcome.final_loss):
            raise AssertionError(f"{name}: no finite loss ({outcome.final_loss})")
    return {"models": out}


def step_pause_resume(c: Check) -> dict[str, Any]:
    import lightning as L

    from peftstudio.callbacks.memory import release_memory

    class PauseAt(L.Callback):
        def __init__(self, flag: Path, step: int) -> None:
            self.flag, self.step = flag, step

        def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
            if trainer.global_step == self.step:
                self.flag.touch()

    folder = c.tmp / "pause"
    flag = folder / "pause.flag"
    folder.mkdir(parents=True, exist_ok=True)
    config = c.config(packing=True)
    dtype = torch.bfloat16 if c.cuda else torch.float32
    model = c.model("smollm2-135m", dtype)
    before = nvml_used_bytes()
    paused, _ = _our_run(c, model, config, folder, pause_flag=flag, extra_callbacks=[PauseAt(flag, c.steps // 2)])
    during = nvml_used_bytes()
    del model
    release_memory()
    after = nvml_used_bytes()
    allocated_after = torch.cuda.memory_allocated() if c.cuda else None
    flag.unlink(missing_ok=True)
    resumed, _ = _our_run(c, c.model("smollm2-135m", dtype), config, folder, pause_flag=flag)
    release_memory()
    straight, _ = _our_run(c, c.model("smollm2-135m", dtype), config, c.tmp / "straight")
    difference = abs((resumed.final_loss or math.nan) - (straight.final_loss or math.nan))
    if not c.cuda and difference != 0:  # the promise: bit-identical on the CPU (docs/gpu.md)
        raise AssertionError(f"resumed loss differs from an uninterrupted run's by {difference} on the CPU")
    if paused.status != "paused" or resumed.status != "completed" or resumed.resumed_from != paused.step:
        raise AssertionError(f"pause/resume: {paused.status} at {paused.step}, then {resumed.status} "
                             f"from {resumed.resumed_from}")
    return {"paused_at": paused.step, "resumed_from": resumed.resumed_from, "final_step": resumed.step,
            "nvml_used_before": before, "nvml_used_while_training": during, "nvml_used_after_pause": after,
            "torch_allocated_after_pause": allocated_after, "final_loss_resumed": resumed.final_loss,
            "final_loss_uninterrupted": straight.final_loss, "resume_loss_difference": difference}


def step_fp16(c: Check) -> dict[str, Any]:
    from peftstudio.callbacks.gradients import GradientGuard

    reports: list[Any] = []
    config = c.config(precision="fp16", learning_rate=1e-3, max_grad_norm=None)
    model = c.model("smollm2-135m", torch.float32)  # load_options: fp16 runs keep fp32 weights
    guard = GradientGuard([reports.append])
    outcome, _ = _our_run(c, model, config, c.tmp / "fp16", extra_callbacks=[guard])
    explosions = [r for r in reports if getattr(r, "guard", None) == "gradients"]
    non_finite = sum(1 for n in guard.norms if not math.isfinite(n))
    if explosions:
        raise AssertionError(f"{len(explosions)} gradient explosions reported in a plain fp16 run")
    return {"status": outcome.status, "steps": outcome.step, "explosions": 0, "final_loss": outcome.final_loss,
            "non_finite_norms_kept": non_finite}


def step_qlora(c: Check) -> dict[str, Any]:
    if not c.cuda:
        return {"skipped": "needs a CUDA GPU"}
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        return {"skipped": "bitsandbytes is not installed (put its wheel in the .whl folder)"}
    from peftstudio.engine.worker import load_options
    from peftstudio.models.loading import load_model

    folder = c.tmp / "llama-1b"
    c.model("llama-3.2-1b", torch.bfloat16).save_pretrained(folder)
    release()
    config = c.config(quantization="4bit", packing=False)
    model = load_model(str(folder), **load_options(config.training, cuda=True))
    estimate = c.estimate(model, config)
    outcome, _ = _our_run(c, model, config, c.tmp / "qlora")
    peak = peak_bytes()
    return {"estimated_peak_bytes": estimate.estimated_peak_bytes, "peak_reserved_bytes": peak,
            "estimate_ratio": estimate.estimated_peak_bytes / peak if peak else None,
            "tokens_per_second": outcome.tokens_seen / outcome.elapsed_seconds, "final_loss": outcome.final_loss}


def step_playground(c: Check) -> dict[str, Any]:
    from peftstudio.models.builtins import builtin_folder
    from peftstudio.playground.session import GenerationSettings, PlaygroundSession

    tokenizer_from = builtin_folder("tiny-llama")  # a real tokenizer, built offline; its ids fit every vocab
    out: dict[str, Any] = {}
    for name in (["smollm2-135m"] if c.dry_run else ["smollm2-135m", "llama-3.2-1b"]):
        folder = c.tmp / f"play-{name}"
        c.model(name, torch.bfloat16).save_pretrained(folder)
        for f in tokenizer_from.iterdir():
            if f.suffix in (".json", ".jinja", ".txt", ".model") and f.name not in (
                    "config.json", "generation_config.json", "peftstudio.json"):
                shutil.copy(f, folder / f.name)
        session = PlaygroundSession(str(folder), save_history=False)
        settings = GenerationSettings(max_new_tokens=8 if c.dry_run else 128, temperature=0.0)
        session.generate("warm up", GenerationSettings(max_new_tokens=2))
        answer = session.generate("Tell me about GPUs.", settings)
        out[name] = {"device": str(next(session.model.parameters()).device),
                     "dtype": str(next(session.model.parameters()).dtype),
                     "first_token_seconds": answer.first_token_seconds,
                     "tokens_per_second": answer.tokens / answer.seconds if answer.seconds else None,
                     "tokens": answer.tokens}
        if c.cuda and out[name]["device"] == "cpu":
            raise AssertionError("the playground stayed on the CPU")
        del session
        release()
    return {"models": out}


STEPS: dict[str, Callable[[Check], dict[str, Any]]] = {
    "probe": step_probe, "packing": step_packing, "lora_bf16": step_lora_bf16, "pause_resume": step_pause_resume,
    "fp16": step_fp16, "qlora_4bit": step_qlora, "playground": step_playground,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="the same steps on the CPU with tiny shapes")
    parser.add_argument("--only", action="append", choices=sorted(STEPS), help="run only these steps")
    parser.add_argument("--out", type=Path, default=None,
                        help="also append the JSON lines here (default: benchmarks/results/<gpu>.jsonl)")
    args = parser.parse_args(argv)
    check = Check(args.dry_run, args.out)
    if check.out is None and check.cuda:
        name = torch.cuda.get_device_name(0).lower().replace("nvidia", "").strip()
        check.out = ROOT / "benchmarks" / "results" / ("-".join(name.split()) + ".jsonl")
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    try:
        for name in args.only or list(STEPS):
            check.run(name, STEPS[name])
    finally:
        shutil.rmtree(check.tmp, ignore_errors=True)
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
