"""Names and tooltips of the plan's settings, in plain words (what the settings screen shows)."""

from __future__ import annotations

#: setting key -> (name on screen, tooltip). The main ones come first; the rest are "advanced".
LABELS: dict[str, tuple[str, str]] = {
    "epochs": ("Epochs", "How many times the model reads all of your examples."),
    "learning_rate": ("Learning rate", "How big each learning step is. Smaller is safer but slower."),
    "sequence_length": ("Context length", "The longest example, in tokens, that training reads in one piece."),
    "micro_batch_size": ("Batch size", "How many examples are processed at once. Bigger needs more memory."),
    "gradient_accumulation": ("Gradient accumulation",
                              "How many batches are added up before the model is updated once."),
    "precision": ("Precision", "How many bits each number uses while training (fp32, bf16 or fp16)."),
    "quantization": ("Quantization", "Store the base model in 4 or 8 bits to save memory (GPU only)."),
    "lora_rank": ("LoRA rank", "The size of the adapter: how much it can learn."),
    "lora_alpha": ("LoRA alpha", "How strongly the adapter's changes count; usually twice the rank."),
    "lora_dropout": ("Dropout", "A share of the adapter ignored at random during training, against memorising."),
    "target_modules": ("Adapted layers", "Which parts of the model get an adapter (comma-separated names)."),
    "gradient_checkpointing": ("Gradient checkpointing", "Save memory by recomputing; about 30% slower."),
    "packing": ("Packing", "Put several short examples in one sequence so no time is wasted."),
    "max_steps": ("Step limit", "Stop after this many steps even if the epochs are not done (empty: no limit)."),
    "steps": ("Steps", "How many learning steps the run will take (follows from the data and epochs)."),
    "lr_scheduler": ("Learning rate scheduler", "How the learning rate changes over the run."),
    "warmup_ratio": ("Warmup", "The share of steps over which the learning rate rises gently at the start."),
    "weight_decay": ("Weight decay", "A small pull of the adapter's numbers towards zero."),
    "max_grad_norm": ("Gradient clipping", "The largest update allowed in one step (empty: no clipping)."),
    "eval_every_steps": ("Validation every", "How often, in steps, the model is checked on held-out examples."),
    "checkpoint_every_steps": ("Checkpoint every", "How often, in steps, progress is saved."),
    "validation_fraction": ("Validation share", "The share of examples kept aside to check the model."),
    "seed": ("Seed", "A number that makes training repeatable."),
}

MAIN = ("epochs", "learning_rate", "sequence_length", "micro_batch_size", "gradient_accumulation", "precision",
        "quantization", "lora_rank")

#: Settings chosen from a list (the rest are typed in).
CHOICES: dict[str, tuple[str, ...]] = {
    "precision": ("fp32", "bf16", "fp16"),
    "quantization": ("none", "8bit", "4bit"),
    "lr_scheduler": ("cosine", "linear", "constant"),
}


def label(key: str) -> tuple[str, str]:
    return LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
