"""The glossary: every technical word the app and the docs use, with a plain definition and an example.

The glossary is data, shared by the app (hover or long-press a term to read it) and the docs
(`docs/glossary.md` lists every term; a test checks they agree).

Example:
    >>> lookup("LoRA").term
    'LoRA'
    >>> lookup("learning rate").definition.startswith("How big")
    True
    >>> lookup("no such word") is None
    True
"""

from __future__ import annotations

import re

from attrs import field, frozen

from peftstudio.tuples import as_tuple


@frozen
class Term:
    """One glossary entry: the term, a simple definition, an example, and other words for it."""

    term: str
    definition: str
    example: str
    aliases: tuple[str, ...] = field(default=(), converter=as_tuple)

    @property
    def anchor(self) -> str:
        """The heading anchor of this term in ``docs/glossary.md``."""
        return re.sub(r"[^a-z0-9]+", "-", self.term.lower()).strip("-")


GLOSSARY: tuple[Term, ...] = (
    Term("Fine-tuning", "Teaching an existing language model a new skill or style by showing it examples, "
         "instead of building a model from scratch.",
         "Showing a general model 300 support conversations so it answers like your support team.",
         ("fine-tune",)),
    Term("Base model", "The ready-made language model you start from. Fine-tuning changes how it behaves, "
         "not what it fundamentally is.",
         "SmolLM2-135M is a small base model; Llama 3.1 8B is a much larger one."),
    Term("LoRA", "Low-Rank Adaptation: instead of changing all of the model's numbers, training adds a small "
         "set of new numbers beside them. It needs far less memory and the result is a small file.",
         "A LoRA adapter for an 8-billion-parameter model may be only 40 MB.", ("low-rank adaptation",)),
    Term("QLoRA", "LoRA on a base model that is stored in 4-bit form to save memory. Slightly slower, "
         "but a large model fits on a small GPU.",
         "Fine-tuning an 8B model on a 12 GB graphics card with QLoRA."),
    Term("Adapter", "The small file that training produces: the learned changes that sit on top of the base "
         "model. Switch it on and the model behaves the new way.",
         "adapter_model.safetensors, a few megabytes, used together with the base model."),
    Term("Rank", "The size of a LoRA adapter. A higher rank can learn more but needs more memory and data.",
         "Rank 8 for sorting tickets into categories; rank 64 for learning a new field's vocabulary.",
         ("lora rank", "r")),
    Term("Alpha", "How strongly the LoRA adapter's changes count. Usually twice the rank.",
         "Rank 16 with alpha 32.", ("lora alpha",)),
    Term("Epoch", "One full pass over all of your training examples.",
         "With 300 examples, 3 epochs means the model sees each example three times.", ("epochs",)),
    Term("Step", "One update of the model's numbers, made after looking at one batch of examples.",
         "300 examples with a batch size of 16 give about 19 steps per epoch.", ("steps", "optimizer step")),
    Term("Learning rate", "How big each update to the model is. Too high and training becomes unstable; "
         "too low and it learns very slowly.",
         "0.0002 is a common learning rate for LoRA.", ("lr",)),
    Term("Batch size", "How many examples the model looks at before each update. Bigger batches give steadier "
         "updates but need more memory.",
         "A batch size of 4 means four examples are processed together.", ("micro-batch", "micro batch size")),
    Term("Effective batch size", "The number of examples behind each update once gradient accumulation is "
         "counted: batch size times accumulation steps.",
         "Batch size 4 with 4 accumulation steps gives an effective batch of 16."),
    Term("Gradient accumulation", "Adding up the results of several small batches before making one update, "
         "so a large effective batch fits in little memory.",
         "4 batches of 4 examples, then one update: like a batch of 16 with the memory of 4.",
         ("accumulation",)),
    Term("Gradient checkpointing", "Saving memory by recomputing some intermediate results during training "
         "instead of keeping them. About 30% slower, much less memory.",
         "Turn it on when a long sequence length does not fit."),
    Term("Gradient clipping", "Limiting how large a single update can be, so one bad batch cannot throw "
         "training off course.",
         "Clipping the gradient norm at 1.0.", ("max grad norm",)),
    Term("Loss", "A number that measures how wrong the model's predictions are on the training examples. "
         "It should go down as the model learns.",
         "A loss falling from 2.5 to 1.2 means the model predicts your examples much better."),
    Term("Validation", "Checking the model on examples kept aside and never trained on, to see whether it "
         "learned the skill or only memorised the training examples.",
         "10% of your examples are kept for validation.", ("validation loss", "val loss")),
    Term("Overfitting", "When the model memorises the training examples instead of learning the skill: the "
         "training loss keeps falling while the validation loss rises.",
         "Training for 20 epochs on 50 examples usually overfits."),
    Term("Divergence", "When training becomes unstable and the loss shoots up or becomes not-a-number. "
         "Usually fixed by a smaller learning rate.",
         "The loss jumps from 1.4 to 9.0 in a few steps.", ("diverged", "nan")),
    Term("Checkpoint", "A saved snapshot of training so far. A paused or interrupted run continues from its "
         "last checkpoint.",
         "A checkpoint every 50 steps; the last two are kept.", ("checkpoints",)),
    Term("Token", "A piece of text the model reads as one unit: a word, part of a word or a punctuation mark.",
         "\"Fine-tuning is fun\" is about 5 tokens.", ("tokens",)),
    Term("Tokenizer", "The part of a model that cuts text into tokens and back.",
         "The tokenizer turns \"hello world\" into two tokens."),
    Term("Context length", "The most tokens the model reads at once during training: examples longer than "
         "this are cut.", "A context length of 1024 tokens holds about 700 words.",
         ("sequence length", "max length")),
    Term("Packing", "Putting several short examples into one sequence so no memory is wasted on padding, "
         "while each example still only sees itself.",
         "Four 200-token examples packed into one 1024-token sequence."),
    Term("Precision", "How many bits each number uses during training. Fewer bits use less memory and are "
         "faster on modern GPUs.",
         "bf16 (16 bits) on recent NVIDIA cards; fp32 (32 bits) on a processor.",
         ("bf16", "fp16", "fp32")),
    Term("Quantization", "Storing the base model's numbers with fewer bits (8 or 4) so it takes less memory.",
         "A 7B model needs about 14 GB in 16-bit form but about 4 GB in 4-bit form.",
         ("4-bit", "8-bit", "quantized")),
    Term("GGUF", "A single-file model format used by llama.cpp, Ollama and LM Studio to run models on "
         "ordinary computers.", "Export to GGUF, then run the model with Ollama."),
    Term("Chat template", "The exact way a conversation is written out for a model, with markers for who "
         "is speaking.", "<|im_start|>user\\nHello<|im_end|>"),
    Term("Warmup", "Starting training with a small learning rate that grows over the first steps, to avoid "
         "a rough start.", "3% of the steps as warmup."),
    Term("Scheduler", "How the learning rate changes during training.",
         "Cosine: the learning rate falls smoothly to zero by the end.", ("lr scheduler",)),
    Term("Dropout", "Randomly ignoring a small share of the adapter during training, which helps against "
         "overfitting.", "A LoRA dropout of 0.05 ignores 5%."),
    Term("Tokens per second", "How fast training reads text; a measure of speed.",
         "400 tokens/s on a laptop processor, 20,000 tokens/s on a good GPU.", ("tokens/s",)),
    Term("GPU", "The graphics card. Training on a GPU is many times faster than on the processor (CPU).",
         "An NVIDIA RTX 3060 with 12 GB of memory.", ("graphics card",)),
    Term("GPU memory", "The memory on the graphics card (VRAM). The model, the adapter and the examples being "
         "processed must all fit in it.", "12 GB on an RTX 3060.", ("vram",)),
    Term("GPU-hours", "How long training keeps one GPU busy; used to compare costs.",
         "2 GPU-hours: one GPU for two hours, or two GPUs for one hour."),
)

_INDEX: dict[str, Term] = {}
for _t in GLOSSARY:
    for _name in (_t.term, *_t.aliases):
        _INDEX[_name.lower()] = _t


def lookup(word: str) -> Term | None:
    """The glossary entry for a term or one of its other names (case-insensitive), or None.

    Example:
        >>> lookup("epochs").term
        'Epoch'
    """
    return _INDEX.get(word.strip().lower())


def terms() -> list[str]:
    """Every term's main name, in glossary order."""
    return [t.term for t in GLOSSARY]


def to_markdown() -> str:
    """The glossary as the Markdown page ``docs/glossary.md`` (kept in sync by a test).

    Example:
        >>> "## LoRA" in to_markdown()
        True
    """
    intro = ("Words you will meet in PEFT Studio, in plain language. In the app, hover over an underlined "
             "word (or press and hold it on a touch screen) to see its entry.")
    lines = ["# Glossary", "", intro, ""]
    for t in GLOSSARY:
        lines += [f"## {t.term}", "", t.definition, "", f"*Example:* {t.example}", ""]
        if t.aliases:
            lines += [f"Also called: {', '.join(t.aliases)}.", ""]
    return "\n".join(lines)


__all__ = ["GLOSSARY", "Term", "lookup", "terms", "to_markdown"]
