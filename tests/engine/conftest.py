"""Tiny models and tokenized examples for engine tests (fast: a few thousand parameters)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from peftstudio.records import DataSettings, LoraSettings, ModelChoice, RunConfig, TrainingSettings

VOCAB = 64


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         initializer_range=0.2)  # big enough output weights for LoRA to move the loss
    return LlamaForCausalLM(config)


def make_examples(n: int, seed: int = 1, lengths: tuple[int, int] = (5, 20)) -> list[dict[str, list[int]]]:
    """Learnable examples: a prompt of 2 tokens (masked) then a counting sequence over 16 tokens."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        length = rng.randint(*lengths)
        start, step = rng.randint(3, VOCAB - 1), rng.choice([1, 2])
        ids = [3 + (start + i * step) % 16 for i in range(length)]  # 16 of the 64 tokens: quick to learn
        out.append({"input_ids": ids, "labels": [-100, -100] + ids[2:]})
    return out


def tiny_config(**training: object) -> RunConfig:
    values: dict[str, object] = {"learning_rate": 1e-2, "max_steps": 12, "micro_batch_size": 2, "gradient_accumulation": 2,
                                     "sequence_length": 32, "eval_every_steps": 5, "checkpoint_every_steps": 4,
                                     "keep_checkpoints": 2, "warmup_ratio": 0.1}
    values.update(training)
    return RunConfig(profile="chatbot", model=ModelChoice("tiny"), data=DataSettings(path="unused.jsonl"),
                     lora=LoraSettings(rank=4, alpha=8, dropout=0.1, target_modules=("q_proj", "v_proj")),
                     training=TrainingSettings(**values))  # type: ignore[arg-type]


class PauseAt(L.Callback):
    """Creates the pause flag file (what `peftstudio pause` does) so that the run pauses right after optimizer
    step `step`, or, with `micro`, after `micro` more micro-batches of the next step (mid-accumulation)."""

    def __init__(self, flag: Path, step: int, micro: int = 0) -> None:
        self.flag, self.step, self.micro = flag, step, micro

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: object, batch: object, batch_idx: int) -> None:
        within = batch_idx % trainer.accumulate_grad_batches  # this micro-batch's place in its step
        if self.micro == 0:
            due = trainer.global_step == self.step - 1 and within == trainer.accumulate_grad_batches - 1
        else:
            due = trainer.global_step == self.step and within == self.micro - 1
        if due:
            self.flag.touch()  # seen by the pause callback at the end of this micro-batch


@pytest.fixture
def examples() -> tuple[list[dict[str, list[int]]], list[dict[str, list[int]]]]:
    return make_examples(64, seed=1), make_examples(8, seed=2)


@pytest.fixture
def model_factory() -> Callable[[], LlamaForCausalLM]:
    return tiny_llama
