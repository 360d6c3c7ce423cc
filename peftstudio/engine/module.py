"""The LightningModule: a transformers causal LM with a PEFT LoRA adapter.

Only the adapter trains; only the adapter (not the frozen base weights) goes into
checkpoints. The KV cache is always off in training: with it on, packed examples
would silently attend to each other.

Example:
    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> from peftstudio.records import LoraSettings, TrainingSettings
    >>> base = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
    ...     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2))
    >>> module = LoraModule(base, LoraSettings(rank=4, alpha=8), TrainingSettings())
    >>> sorted(module.adapter_state_dict())[0].endswith("lora_A.default.weight")
    True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightning as L
import torch

from peftstudio.engine.dropout import use_row_dropout
from peftstudio.errors import make
from peftstudio.records.config import LoraSettings, TrainingSettings

ACCUMULATED_GRADS = "accumulated_grads"  # checkpoint key of the gradients of a step not taken yet

MODEL_INPUTS = ("input_ids", "labels", "attention_mask", "position_ids")


def check_quantization(quantization: str) -> None:
    """Raise the plain ``bitsandbytes_missing`` error unless 8/4-bit loading can work here.

    Example:
        >>> check_quantization("none")  # always fine
    """
    if quantization == "none":
        return
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise make("bitsandbytes_missing", detail="The bitsandbytes package is not installed.") from None
    if not torch.cuda.is_available():
        raise make("bitsandbytes_missing", detail="No CUDA GPU is available on this computer.")


def apply_lora(model: torch.nn.Module, lora: LoraSettings, *, quantized: bool = False) -> torch.nn.Module:
    """Wrap `model` with a fresh LoRA adapter (targets that the model lacks are dropped, with at least one kept)."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in lora.target_modules if t in names]
    if not targets:
        raise make("config_invalid", problems=f"lora.target_modules: none of {', '.join(lora.target_modules)} exist "
                                              f"in this model")
    if quantized:
        from peftstudio.models.loading import keep_embeddings_16bit

        # the embeddings' dtype as loaded, before PEFT's fp32 upcast (torch's stubs call the module a Tensor)
        compute = model.get_input_embeddings().weight.dtype  # type: ignore[operator]
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        keep_embeddings_16bit(model, compute)  # 2 GB less for an 8B model (see the function)
    config = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets,
                        bias="none", task_type="CAUSAL_LM")
    return get_peft_model(model, config)


class LoraModule(L.LightningModule):
    """LoRA fine-tuning of a causal language model (reusable in any Lightning project).

    `model` is a transformers causal LM (already loaded, possibly quantized); pass
    ``lora=None`` if it already carries a PEFT adapter.
    """

    def __init__(self, model: Any, lora: LoraSettings | None, training: TrainingSettings,
                 *, quantized: bool = False) -> None:
        super().__init__()
        self.training_settings = training
        self._pending_grads: dict[str, torch.Tensor] | None = None
        if getattr(model, "config", None) is not None:
            model.config.use_cache = False
        if training.gradient_checkpointing and hasattr(model, "gradient_checkpointing_enable"):
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            if hasattr(model, "enable_input_require_grads"):
                model.enable_input_require_grads()
        self.model = apply_lora(model, lora, quantized=quantized) if lora is not None else model
        self.model.train()
        # a micro-batch laid in one row gets the dropout masks of its padded rows (engine.dropout)
        self.row_layout = use_row_dropout(self.model)
        # resuming loads only the adapter: the frozen base weights come from the model files
        self.strict_loading = False

    # ------------------------------------------------------------ steps
    def forward(self, batch: dict[str, torch.Tensor]) -> Any:
        inputs = {k: batch[k] for k in MODEL_INPUTS if k in batch}
        return self.model(**inputs, use_cache=False)

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean cross-entropy over the batch's predicted tokens, with output logits only for those tokens
        (`peftstudio.engine.loss.causal_lm_loss`): the same value as the model's own loss, less work."""
        from peftstudio.engine.loss import causal_lm_loss

        return causal_lm_loss(self.model, batch)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, Any]:
        self.row_layout.set(batch)  # kept through backward (a checkpointed layer draws its masks again)
        loss = self.loss(batch)
        return {"loss": loss, "train_loss": loss.detach()}

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        # weight each batch by its predicted tokens so the epoch value is the token-level mean (over every
        # rank: Lightning sums the weighted values and the weights); a batch predicting nothing (a rank's
        # filler batch) weighs nothing and needs no forward pass
        predicted = int((batch["labels"][:, 1:] != -100).sum())
        loss = self.loss(batch) if predicted else torch.zeros((), device=batch["labels"].device)
        self.log("val_loss", loss, on_step=False, on_epoch=True, batch_size=predicted, sync_dist=True)
        return loss

    # ------------------------------------------------------------ optimisation
    def configure_optimizers(self) -> Any:
        from transformers import get_scheduler

        t = self.training_settings
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)
        total = int(self.trainer.max_steps) if self.trainer.max_steps and self.trainer.max_steps > 0 \
            else int(self.trainer.estimated_stepping_batches)
        warmup = math.ceil(t.warmup_ratio * total)
        scheduler = get_scheduler(t.lr_scheduler if t.lr_scheduler != "constant" else "constant_with_warmup",
                                  optimizer, num_warmup_steps=warmup, num_training_steps=total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_train_start(self) -> None:
        # the one owner of the learning rate: a resumed run restores the old rate with its scheduler's
        # state, and may have been given a new one since (e.g. by `peftstudio fix`)
        set_learning_rate(self.trainer, self.training_settings.learning_rate)
        grads, self._pending_grads = self._pending_grads, None
        if grads:  # paused mid-accumulation: the gradients summed so far go on being summed
            for name, p in self.named_parameters():
                if name in grads:
                    p.grad = grads[name].to(device=p.device, dtype=p.dtype)

    # ------------------------------------------------------------ adapter weights
    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """The trainable (adapter) tensors, under the module's own parameter names."""
        return {f"model.{name}": p.detach() for name, p in self.model.named_parameters() if p.requires_grad}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        keep = set(self.adapter_state_dict())
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in keep}
        # a checkpoint written mid-accumulation (a pause between micro-batches) keeps the gradients summed
        # so far, so that the resumed step is the step an uninterrupted run takes
        if mid_accumulation(self.trainer):  # (after a step the last step's gradients linger: not those)
            checkpoint[ACCUMULATED_GRADS] = {name: p.grad for name, p in self.named_parameters()
                                             if p.requires_grad and p.grad is not None}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._pending_grads = checkpoint.get(ACCUMULATED_GRADS)

    def save_adapter(self, folder: str | Path) -> Path:
        """Write the adapter in PEFT's format (safetensors + adapter_config.json), atomically."""
        from peftstudio.store.files import atomic_directory

        with atomic_directory(folder, replace=True) as tmp:
            self.model.save_pretrained(str(tmp), safe_serialization=True)  # type: ignore[operator]
        return Path(folder)


def mid_accumulation(trainer: Any) -> bool:
    """Whether the micro-batch just trained leaves its optimizer step still to come (gradients half summed)."""
    loop = getattr(getattr(trainer, "fit_loop", None), "epoch_loop", None)
    should_accumulate = getattr(loop, "_should_accumulate", None)
    return bool(should_accumulate()) if callable(should_accumulate) else False


def set_learning_rate(trainer: Any, learning_rate: float) -> bool:
    """Make the optimizer and scheduler use `learning_rate` as their base rate (scaling the current one).

    Returns whether anything changed: nothing does when the scheduler's base rate is already
    `learning_rate` (a fresh run, or a resume with the same setting).

    Example:
        >>> from types import SimpleNamespace
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5)
        >>> set_learning_rate(SimpleNamespace(lr_scheduler_configs=[SimpleNamespace(scheduler=sched)]), 0.02)
        True
        >>> round(opt.param_groups[0]["lr"], 6)
        0.01
    """
    changed = False
    for config in getattr(trainer, "lr_scheduler_configs", []):
        scheduler = config.scheduler
        bases = list(getattr(scheduler, "base_lrs", []))
        if not bases or all(math.isclose(b, learning_rate) for b in bases):
            continue
        for i, group in enumerate(scheduler.optimizer.param_groups):
            factor = learning_rate / bases[min(i, len(bases) - 1)]
            group["lr"] = group["lr"] * factor
            group["initial_lr"] = learning_rate
        scheduler.base_lrs = [learning_rate] * len(bases)
        if hasattr(scheduler, "_last_lr"):
            scheduler._last_lr = [g["lr"] for g in scheduler.optimizer.param_groups]
        changed = True
    return changed
