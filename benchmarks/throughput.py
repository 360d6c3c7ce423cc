"""Benchmark: training throughput of our engine against a plain Hugging Face `Trainer` + PEFT baseline.

On `builtin:smollm2-135m` with the bundled sample chat data, every contender trains the same LoRA adapter
(rank 16, alpha 32, q/k/v/o), the same sequence length, micro-batch, learning rate and number of optimizer
steps, one after the other in this process:

* ``hf``: transformers `Trainer` + PEFT, batches padded to their longest example (its usual setup);
* ``ours_packed`` / ``ours_unpacked``: our Lightning engine with all our callbacks (progress, ETA, system
  monitor, checkpoint, pause), packing on and off;
* ``lightning_bare``: the same Lightning loop, packing on, with none of our callbacks.

Each is timed from the end of its first optimizer step (start-up and warm-up excluded) to the end of its
last; "useful tokens" are real tokens (no padding). Wall time and process CPU time are both reported (CPU
time is steadier on a shared machine). Prints ONE JSON line with tokens/s per contender and the ratios
``packed_vs_hf`` (target >= 1.5), ``unpacked_vs_hf`` (>= 0.97) and ``callback_overhead`` (<= 0.03).

    .venv/bin/python benchmarks/throughput.py [--steps 4] [--seq 128] [--batch 2] [--model builtin:smollm2-135m]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Clock:
    """Times optimizer steps 2..N and counts their useful tokens (shared by every contender)."""

    def __init__(self) -> None:
        self.step_ends: list[tuple[float, float]] = []  # (wall, cpu) at the end of each optimizer step
        self.step_tokens: list[int] = []
        self._pending = 0

    def add_tokens(self, n: int) -> None:
        self._pending += n

    def step_end(self) -> None:
        self.step_ends.append((time.perf_counter(), time.process_time()))
        self.step_tokens.append(self._pending)
        self._pending = 0

    def result(self) -> dict[str, float]:
        (w0, c0), (w1, c1) = self.step_ends[0], self.step_ends[-1]
        tokens = sum(self.step_tokens[1:])
        return {"tokens": tokens, "wall_s": w1 - w0, "cpu_s": c1 - c0,
                "tokens_per_s": tokens / (w1 - w0), "tokens_per_cpu_s": tokens / (c1 - c0)}


def lightning_run(config: Any, model: Any, train: list[dict[str, list[int]]], pad_id: int, *, packing: bool,
                  ours: bool) -> dict[str, float]:
    import attrs
    import lightning as L

    from peftstudio.engine.datamodule import TextDataModule
    from peftstudio.engine.module import LoraModule
    from peftstudio.engine.trainer import build_trainer, plan_trainer, standard_callbacks

    t = attrs.evolve(config.training, packing=packing)
    clock = Clock()

    class Timing(L.Callback):
        seen = 0

        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
            clock.add_tokens(int(batch["token_count"]))

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            if trainer.global_step != self.seen:  # an optimizer step just finished
                self.seen = trainer.global_step
                clock.step_end()

    L.seed_everything(t.seed, verbose=False)
    module = LoraModule(model, config.lora, t)
    data = TextDataModule(train, [], micro_batch_size=t.micro_batch_size, sequence_length=t.sequence_length,
                          pad_id=pad_id, packing=packing, seed=t.seed)
    plan = plan_trainer(t, batches_per_epoch=data.batches_per_epoch, has_validation=False, cuda=False)
    with tempfile.TemporaryDirectory() as folder:
        callbacks = standard_callbacks(Path(folder), t, lambda report: None) if ours else []
        trainer = build_trainer(plan, [*callbacks, Timing()], root_dir=folder)
        trainer.fit(module, datamodule=data)
    return clock.result()


def hf_run(config: Any, model: Any, train: list[dict[str, list[int]]], pad_id: int) -> dict[str, float]:
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainerCallback, TrainingArguments

    t, lo = config.training, config.lora
    clock = Clock()
    peft_model = get_peft_model(model, LoraConfig(r=lo.rank, lora_alpha=lo.alpha, lora_dropout=lo.dropout,
                                                  target_modules=list(lo.target_modules), task_type="CAUSAL_LM"))

    def collate(examples: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(e["input_ids"]) for e in examples)
        ids = [e["input_ids"] + [pad_id] * (width - len(e["input_ids"])) for e in examples]
        labels = [e["labels"] + [-100] * (width - len(e["labels"])) for e in examples]
        mask = [[1] * len(e["input_ids"]) + [0] * (width - len(e["input_ids"])) for e in examples]
        clock.add_tokens(sum(len(e["input_ids"]) for e in examples))
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}

    class Timing(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            clock.step_end()

    with tempfile.TemporaryDirectory() as folder:
        args = TrainingArguments(output_dir=folder, per_device_train_batch_size=t.micro_batch_size,
                                 gradient_accumulation_steps=t.gradient_accumulation, learning_rate=t.learning_rate,
                                 max_steps=t.max_steps, lr_scheduler_type=t.lr_scheduler,
                                 warmup_steps=0, max_grad_norm=t.max_grad_norm or 0.0,
                                 logging_strategy="no", save_strategy="no", eval_strategy="no", report_to=[],
                                 use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
                                 remove_unused_columns=False, seed=t.seed, disable_tqdm=True)
        trainer = Trainer(model=peft_model, args=args, train_dataset=train, data_collator=collate,
                          callbacks=[Timing()])
        trainer.train()
    # the collator ran one micro-batch ahead at most: attribute tokens to steps in order
    return clock.result()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="builtin:smollm2-135m")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=2)
    args = parser.parse_args()

    from transformers.utils import logging as hf_logging

    from peftstudio.data import build_datasets, sample_path
    from peftstudio.models import load_model, load_tokenizer
    from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings

    hf_logging.set_verbosity_error()
    import logging

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    config = RunConfig(profile="chatbot", model=ModelChoice(args.model),
                       data=DataSettings(path=str(sample_path("pirate_chat.jsonl")), validation_fraction=0.0),
                       lora=LoraSettings(rank=16, alpha=32, dropout=0.05),
                       training=TrainingSettings(learning_rate=2e-4, max_steps=args.steps, micro_batch_size=args.batch,
                                                 gradient_accumulation=1, sequence_length=args.seq,
                                                 warmup_ratio=0.0, lr_scheduler="constant",
                                                 checkpoint_every_steps=10_000, eval_every_steps=10_000))
    tokenizer = load_tokenizer(args.model)
    splits = build_datasets(config.data, tokenizer, args.seq, config.training.seed)
    train, pad = list(splits.train), int(tokenizer.pad_token_id or 0)
    results: dict[str, dict[str, float]] = {}
    order = ["hf", "ours_packed", "ours_unpacked", "lightning_bare", "ours_packed_2"]
    for name in order:  # a second "ours_packed" late in the run evens out machine-load drift for the overhead
        model = load_model(args.model)
        model.train()
        if name == "hf":
            results[name] = hf_run(config, model, train, pad)
        else:
            results[name] = lightning_run(config, model, train, pad, packing=name != "ours_unpacked",
                                          ours=name != "lightning_bare")
        del model
    ours_packed = {k: (results["ours_packed"][k] + results["ours_packed_2"][k]) / 2
                   for k in ("tokens_per_s", "tokens_per_cpu_s")}
    hf, bare, unpacked = results["hf"], results["lightning_bare"], results["ours_unpacked"]
    out = {
        "benchmark": "throughput", "model": args.model, "device": "cuda" if torch.cuda.is_available() else "cpu",
        "steps": args.steps, "sequence_length": args.seq, "micro_batch_size": args.batch,
        "tokens_per_s": {k: round(v["tokens_per_s"], 1) for k, v in results.items()},
        "tokens_per_cpu_s": {k: round(v["tokens_per_cpu_s"], 1) for k, v in results.items()},
        "packed_vs_hf": round(ours_packed["tokens_per_s"] / hf["tokens_per_s"], 3),
        "unpacked_vs_hf": round(unpacked["tokens_per_s"] / hf["tokens_per_s"], 3),
        "packed_vs_hf_cpu": round(ours_packed["tokens_per_cpu_s"] / hf["tokens_per_cpu_s"], 3),
        "unpacked_vs_hf_cpu": round(unpacked["tokens_per_cpu_s"] / hf["tokens_per_cpu_s"], 3),
        "callback_overhead": round(1 - ours_packed["tokens_per_s"] / bare["tokens_per_s"], 4),
        "callback_overhead_cpu": round(1 - ours_packed["tokens_per_cpu_s"] / bare["tokens_per_cpu_s"], 4),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
