"""Smart defaults: every training setting chosen from the hardware, the model, the profile and the data,
each with a reason a beginner can read. User overrides win and are re-checked.

Example:
    >>> from peftstudio.hardware import simulated_hardware
    >>> from peftstudio.models.catalog import find_model
    >>> from peftstudio.planner.profiles import get_profile
    >>> c = choose_settings(simulated_hardware("RTX 3060"), find_model("qwen2.5-1.5b"), get_profile("chatbot"))
    >>> c.settings["precision"].value, c.settings["quantization"].value
    ('bf16', 'none')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from attrs import frozen

from peftstudio.models.catalog import ModelSpec
from peftstudio.planner.memory import MemoryBreakdown, estimate_memory
from peftstudio.planner.profiles import Profile
from peftstudio.records.data import DatasetStats
from peftstudio.records.hardware import HardwareProfile
from peftstudio.records.setting import Setting
from peftstudio.settings import PLANNED

GB = 1024**3  # binary gigabytes, as operating systems and nvidia-smi count them
#: Share of the available memory a plan may fill: the rest absorbs what no estimate sees.
MEMORY_BUDGET = 0.85
#: On a processor, micro-batches beyond this are no faster; they only take memory.
CPU_MAX_MICRO_BATCH = 4
#: The most of the training time the checks on held-out examples may take, all evaluations together.
EVAL_SHARE = 0.1
#: What a forward pass costs against a LoRA training step on the same tokens (the frozen weights need no
#: gradients of their own, so the backward pass costs about one forward).
FORWARD_SHARE = 0.5
#: What the planner assumes about the data when it has no statistics.
ASSUMED_STATS = DatasetStats(rows=1000, tokens_min=30, tokens_median=250, tokens_p95=600, tokens_max=1000,
                             tokens_total=280_000)


def _eval_cost(validation_fraction: float) -> float:
    """One evaluation's cost as a share of one pass of training."""
    held = min(max(validation_fraction, 0.0), 0.9)
    return held / (1 - held) * FORWARD_SHARE


def evaluations_per_epoch(wanted: int, validation_fraction: float) -> int:
    """How many times per pass to evaluate: the profile's `wanted`, fewer when they would take more than
    `EVAL_SHARE` of the training time, and at least once.

    Example:
        >>> evaluations_per_epoch(4, 0.1), evaluations_per_epoch(4, 0.02), evaluations_per_epoch(4, 0.3)
        (1, 4, 1)
    """
    return max(1, min(wanted, int(EVAL_SHARE / _eval_cost(validation_fraction)))) if validation_fraction > 0 else wanted


def truncated_fraction(stats: DatasetStats, length: int) -> float:
    """Share of examples longer than `length` tokens, read off the length percentiles.

    Example:
        >>> s = DatasetStats(rows=100, tokens_min=10, tokens_median=100, tokens_p95=200, tokens_max=400,
        ...                  tokens_total=10000)
        >>> truncated_fraction(s, 200), truncated_fraction(s, 1000)
        (0.05, 0.0)
    """
    points = [(stats.tokens_min, 0.0), (stats.tokens_median, 0.5), (stats.tokens_p95, 0.95),
              (stats.tokens_max, 1.0)]
    if length >= stats.tokens_max:
        return 0.0
    if length < stats.tokens_min:
        return 1.0
    for (x0, y0), (x1, y1) in pairwise(points):
        if x0 <= length <= x1:
            share = y0 if x1 == x0 else y0 + (y1 - y0) * (length - x0) / (x1 - x0)
            return round(1.0 - share, 4)
    return 0.0


def _survival_integral(stats: DatasetStats, length: float) -> float:
    # Integral of P(example longer than x) for x from 0 to `length`, with the piecewise-linear CDF above.
    points = [(0.0, 0.0), (float(stats.tokens_min), 0.0), (float(stats.tokens_median), 0.5),
              (float(stats.tokens_p95), 0.95), (float(stats.tokens_max), 1.0)]
    total = 0.0
    for (x0, y0), (x1, y1) in pairwise(points):
        if length <= x0 or x1 <= x0:
            continue
        end = min(length, x1)
        y_end = y0 + (y1 - y0) * (end - x0) / (x1 - x0)
        total += (end - x0) * (1 - (y0 + y_end) / 2)
    return total


def kept_tokens(stats: DatasetStats, length: int) -> int:
    """Tokens left in the whole dataset when every example is cut at `length` tokens.

    Example:
        >>> s = DatasetStats(rows=100, tokens_min=10, tokens_median=100, tokens_p95=200, tokens_max=400,
        ...                  tokens_total=10000)
        >>> kept_tokens(s, 400), 5000 < kept_tokens(s, 100) < 10000
        (10000, True)
    """
    if length >= stats.tokens_max or stats.rows <= 0:
        return stats.tokens_total
    full = _survival_integral(stats, stats.tokens_max)
    share = _survival_integral(stats, length) / full if full > 0 else 1.0
    return int(min(stats.tokens_total * share, stats.rows * length))


def packed_rows(tokens: int, examples: int, length: int) -> int:
    """Rows of `length` tokens that `examples` examples of `tokens` tokens in all fill when packed one after
    another, as the engine packs them (a row closes when the next example does not fit): a row holds its
    length less about half an example, and never fewer than one example.

    Example:
        >>> packed_rows(24_000, 200, 256)  # examples of 120 tokens: about 196 of 256 filled, not 256
        123
        >>> packed_rows(2_560, 10, 256)  # every example fills a row of its own
        10
    """
    if examples <= 0 or tokens <= 0:
        return 1
    mean = tokens / examples
    return max(1, min(examples, math.ceil(tokens / max(length - mean / 2, 1.0))))


def _round_up(n: int, step: int) -> int:
    return max(step, int(math.ceil(n / step) * step))


def gb(n: float) -> str:
    """``18 GB`` style size for reasons.

    Example:
        >>> gb(18 * 1024**3), gb(8.6 * 1024**3), gb(55 * 1024**2)
        ('18 GB', '8.6 GB', '55 MB')
    """
    value = n / GB
    return f"{value:.0f} GB" if value >= 10 else f"{value:.1f} GB" if value >= 0.1 else f"{n / 1024**2:.0f} MB"


@frozen
class Choice:
    """What `choose_settings` decided: the settings, the memory they need, and warnings."""

    settings: dict[str, Setting]
    memory: MemoryBreakdown
    warnings: tuple[str, ...]
    stats: DatasetStats
    stats_assumed: bool
    device: str
    train_tokens: int
    steps_per_epoch: int


def memory_for(spec: ModelSpec, values: Mapping[str, Any], available: int, device: str) -> MemoryBreakdown:
    """The memory breakdown for a set of chosen setting values."""
    return estimate_memory(
        spec, precision=values["precision"], quantization=values["quantization"],
        micro_batch_size=values["micro_batch_size"], sequence_length=values["sequence_length"],
        lora_rank=values["lora_rank"], target_modules=tuple(str(values["target_modules"]).split(",")),
        lora_dropout=values["lora_dropout"], gradient_checkpointing=values["gradient_checkpointing"],
        available_bytes=available, device=device,
    )


def _fitting(spec: ModelSpec, shape: dict[str, Any], batches: list[int], available: int, device: str,
             budget: float) -> dict[str, Any] | None:
    """The first of `batches` (largest first) whose memory stays within `budget`, as full values."""
    for b in batches:
        cand = dict(shape, micro_batch_size=b)
        if memory_for(spec, cand, available, device).estimated_peak_bytes <= budget:
            return cand
    return None


def planning_device(hw: HardwareProfile) -> tuple[str, int, str]:
    """Where a run on `hw` trains (``cuda`` with a GPU, else ``cpu``), the bytes free there, and that in words.

    Example:
        >>> from peftstudio.hardware import simulated_hardware
        >>> planning_device(simulated_hardware(cpu_cores=2))[0], planning_device(simulated_hardware("H100"))[0]
        ('cpu', 'cuda')
    """
    if hw.gpus:
        gpu = hw.gpus[0]
        name = "GPU" if gpu.name.startswith("GPU with") else gpu.name  # a GPU known only by its memory
        return "cuda", gpu.memory_free_bytes, f"your {name} has {gb(gpu.memory_free_bytes)} free"
    return "cpu", hw.ram_available_bytes, f"this computer has {gb(hw.ram_available_bytes)} of memory free"


def choose_settings(hw: HardwareProfile, spec: ModelSpec, profile: Profile, stats: DatasetStats | None = None,
                    overrides: Mapping[str, Any] | None = None, *, explain_overrides: bool = True) -> Choice:
    """Choose every setting for training `spec` on `hw` for `profile` (pure; no I/O).

    The plan holds every planned setting of the schema (`peftstudio.settings.PLANNED`), in its order;
    `overrides` are typed values for them (see `peftstudio.settings.parse_overrides`).

    With `explain_overrides`, a user's setting's reason also says what PEFT Studio would have chosen
    (one more planning pass without the overrides).
    """
    user = dict(overrides or {})
    device, available, where = planning_device(hw)
    budget = MEMORY_BUDGET * available
    assumed = stats is None
    data = stats or ASSUMED_STATS
    values: dict[str, Any] = {}
    reasons: dict[str, tuple[str, str]] = {}  # key -> (reason, source)

    def put(key: str, value: Any, reason: str, source: str = "default") -> None:
        values[key] = value
        reasons[key] = (reason, source)

    # --- precision
    if device == "cuda" and hw.gpus[0].bf16:
        put("precision", "bf16", "bf16 because your GPU supports it: half the memory of fp32 and as stable.")
    elif device == "cuda":
        put("precision", "fp16", "fp16 because your GPU has no bf16 support; it halves memory compared to fp32.")
    else:
        put("precision", "fp32", "fp32 because training on the processor is reliable only in full precision.")

    # --- the LoRA adapter, from the profile
    targets = spec.attention_modules if profile.target == "attention" else spec.all_modules
    what = "the attention layers" if profile.target == "attention" else "every linear layer"
    put("lora_rank", profile.lora_rank, f"The {profile.title} profile's adapter size: enough capacity for the "
        "task without slowing training.", "profile")
    put("lora_alpha", profile.lora_alpha, f"Twice the rank ({profile.lora_rank}), the usual LoRA scaling.",
        "profile")
    put("lora_dropout", profile.lora_dropout, "A little dropout in the adapter against memorising the examples.",
        "profile")
    put("target_modules", ",".join(targets), f"LoRA on {what}, as the {profile.title} profile suggests.",
        "profile")

    # --- sequence length: cover ~95% of examples, capped by the model
    if assumed:
        wanted = min(profile.sequence_length, spec.max_context)
        seq_reason = (f"{wanted} tokens: the {profile.title} profile's length, {profile.why_sequence}. "
                      "Check your data to fit it to your examples.")
    else:
        wanted = min(_round_up(data.tokens_p95, 64), spec.max_context)
        seq_reason = f"{wanted} tokens covers about 95% of your examples (95th percentile: {data.tokens_p95})."
        if wanted < _round_up(data.tokens_p95, 64):
            seq_reason = f"{wanted} tokens, the longest {spec.title} can read."
    put("sequence_length", wanted, seq_reason)
    for key in ("precision", "lora_rank", "lora_alpha", "lora_dropout", "target_modules", "sequence_length"):
        if key in user:
            values[key] = user[key]

    # --- effective batch: the profile's, but no more than the training examples
    train_rows = max(1, int(data.rows * (1 - user.get("validation_fraction", 0.1))))
    effective = max(1, min(profile.effective_batch_size, train_rows))

    # --- memory search: quantization, checkpointing, micro-batch (and sequence length if nothing fits)
    cap = min(effective, CPU_MAX_MICRO_BATCH if device == "cpu" else 64)
    batches = [b for b in (64, 32, 16, 8, 4, 2, 1) if b <= cap] or [1]
    if "micro_batch_size" in user:
        batches = [user["micro_batch_size"]]
    quants = [user["quantization"]] if "quantization" in user else (["none", "4bit"] if device == "cuda" else ["none"])
    ckpts = [user["gradient_checkpointing"]] if "gradient_checkpointing" in user else [False, True]
    seqs = [values["sequence_length"]]
    if "sequence_length" not in user:
        s = values["sequence_length"]
        while s > 256:
            s //= 2
            seqs.append(s)
    trial = dict(values, micro_batch_size=1, gradient_checkpointing=False, quantization="none")

    found: dict[str, Any] | None = None
    for seq in seqs:
        for quant in quants:
            for ckpt in ckpts:
                shape = dict(trial, quantization=quant, gradient_checkpointing=ckpt, sequence_length=seq)
                # memory grows with the micro-batch: when the smallest does not fit, none does
                if _fitting(spec, shape, batches[-1:], available, device, budget) is None:
                    continue
                found = _fitting(spec, shape, batches, available, device, budget)
                if found:
                    break
            if found:
                break
        if found:
            break
    warnings: list[str] = []
    if found is None:  # nothing stays under the budget: the leanest setting, and say so plainly
        found = dict(trial, quantization=quants[-1], gradient_checkpointing=ckpts[-1], micro_batch_size=batches[-1],
                     sequence_length=seqs[-1])
        need = memory_for(spec, found, available, device).estimated_peak_bytes
        constrained = any(k in user for k in ("micro_batch_size", "quantization", "gradient_checkpointing",
                                               "sequence_length"))
        if constrained:
            pass  # the user's own choices are what does not fit: the re-check below says so
        elif need > available:
            warnings.append(f"{spec.title} does not fit: even with the leanest settings training needs about "
                            f"{gb(need)}, and {where}. Choose a smaller model or a machine with more memory.")
        else:
            warnings.append(f"Memory is tight: even with the leanest settings training needs about {gb(need)}, "
                            f"and {where}. It may run out of memory; a smaller model is safer.")

    # --- reasons for what the search decided
    at16 = memory_for(spec, dict(found, quantization="none", micro_batch_size=1, gradient_checkpointing=True),
                      available, device).estimated_peak_bytes
    if found["quantization"] == "4bit":
        put("quantization", "4bit", f"4-bit because {spec.title} needs about {gb(at16)} at 16-bit and {where}. "
            "4-bit (QLoRA) loading stores the base model in a quarter of the memory, with little loss in quality.")
    elif found["quantization"] == "8bit":
        put("quantization", "8bit", "8-bit loading of the base model.")
    elif device == "cpu":
        put("quantization", "none", "No quantization: 4-bit loading needs an NVIDIA GPU; on the processor the "
            "model trains in full precision.")
    else:
        put("quantization", "none", f"No quantization: {spec.title} fits at {values['precision']} (about "
            f"{gb(at16)} with the leanest settings; {where}), and unquantized weights train best.")
    if found["gradient_checkpointing"]:
        put("gradient_checkpointing", True, "On: the model's intermediate results are recomputed instead of "
            "kept, which saves a lot of memory for roughly a third more time. Needed to fit in memory.")
    else:
        put("gradient_checkpointing", False, "Off: there is enough memory to keep intermediate results, "
            "which is faster than recomputing them.")
    b = found["micro_batch_size"]
    n_examples = f"{b} example{'s' if b > 1 else ''} at once"
    if device == "cpu" and b == cap and cap == CPU_MAX_MICRO_BATCH:
        put("micro_batch_size", b, f"{n_examples}: on the processor, bigger batches are no faster.")
    elif b == cap:
        put("micro_batch_size", b, f"{n_examples}: the whole batch fits in memory.")
    else:
        put("micro_batch_size", b, f"{n_examples}: the most that keeps memory under {MEMORY_BUDGET:.0%} "
            f"({where}).")
    if found["sequence_length"] != values["sequence_length"]:
        cut = truncated_fraction(data, found["sequence_length"])
        effect = (f"examples longer than {found['sequence_length']} tokens will be cut" if assumed else
                  f"about {cut:.0%} of your examples will be cut")
        put("sequence_length", found["sequence_length"], f"{found['sequence_length']} tokens, shortened from "
            f"{values['sequence_length']} so training fits in memory; {effect}.")
    for key in ("quantization", "gradient_checkpointing", "micro_batch_size", "sequence_length"):
        values[key] = user.get(key, found[key])

    put("packing", True, "Short examples are packed together into full sequences, so no time is spent on padding.")
    put("validation_fraction", 0.1, "10% of the examples are kept aside to check the model on data it has not "
        "trained on.")
    for key in ("packing", "validation_fraction"):
        if key in user:
            values[key] = user[key]

    # --- how many sequences one pass holds, and the batch shape over them
    seq = values["sequence_length"]
    train_share = 1 - values["validation_fraction"]
    train_tokens = int(kept_tokens(data, seq) * train_share)
    train_rows = max(1, int(data.rows * train_share))
    sequences = packed_rows(train_tokens, train_rows, seq) if values["packing"] else train_rows
    if sequences < effective:  # small data: a learning step cannot hold more sequences than there are
        effective = sequences
        if "micro_batch_size" not in user and values["micro_batch_size"] > sequences:
            b = max(x for x in (1, 2, 4, 8, 16, 32, 64) if x <= sequences)
            values["micro_batch_size"] = b
            put("micro_batch_size", b, f"{b} sequence{'s' if b > 1 else ''} at once: your data fills only "
                f"{sequences} sequence{'s' if sequences > 1 else ''} of {seq} tokens.")
            values["micro_batch_size"] = user.get("micro_batch_size", b)
    b = values["micro_batch_size"]
    accumulation = max(1, effective // b)
    if effective == profile.effective_batch_size:
        why = f"the {profile.title} profile's batch for steady learning."
    else:
        why = f"all your data holds ({sequences} sequence{'s' if sequences > 1 else ''} for training)."
    put("gradient_accumulation", accumulation, f"{b} x {accumulation} = {b * accumulation} examples per "
        f"learning step, {why}")
    put("learning_rate", profile.learning_rate, f"The {profile.title} profile's learning rate for LoRA: fast "
        "enough to learn in a few epochs, slow enough to stay stable.", "profile")
    epochs = float(profile.epochs)
    epoch_reason = f"{profile.epochs:g} passes over your data, the {profile.title} profile's default."
    if not assumed and data.rows < 100 and profile.epochs < 5:
        epochs, epoch_reason = 5.0, "5 passes because your data is small: the model must see each example a few times."
    put("epochs", epochs, epoch_reason, "profile")
    for key in ("gradient_accumulation", "learning_rate", "epochs"):
        if key in user:
            values[key] = user[key]

    # --- steps and bookkeeping
    per_step = values["micro_batch_size"] * values["gradient_accumulation"]
    steps_per_epoch = max(1, math.ceil(sequences / per_step))
    steps = max(1, math.ceil(steps_per_epoch * values["epochs"]))
    basis = "your data" if not assumed else f"an assumed {ASSUMED_STATS.rows:,} examples"
    put("steps", steps, f"{steps_per_epoch} learning steps per pass over {basis}, times {values['epochs']:g} "
        "passes.")
    put("max_steps", None, "No limit: training stops after the chosen number of passes (epochs).")
    if "max_steps" in user:
        values["max_steps"] = user["max_steps"]
        if values["max_steps"]:
            steps = values["max_steps"]
            values["steps"] = steps
    evaluations = evaluations_per_epoch(profile.evaluations_per_epoch, values["validation_fraction"])
    every = max(1, steps_per_epoch // evaluations)
    cost = "" if evaluations == profile.evaluations_per_epoch else (
        f" (not {profile.evaluations_per_epoch}: with {values['validation_fraction']:.0%} held out, each check costs "
        f"about {_eval_cost(values['validation_fraction']):.0%} of a pass, and the checks may take "
        f"{EVAL_SHARE:.0%} of the training time)")
    put("eval_every_steps", every, f"Checks the model on the held-out examples {evaluations} time"
        f"{'s' if evaluations > 1 else ''} per pass, to catch overfitting early{cost}.")
    every_save = max(1, steps_per_epoch // profile.evaluations_per_epoch)
    put("checkpoint_every_steps", every_save, f"Saves progress {profile.evaluations_per_epoch} times per pass, so a "
        "stop loses little.")
    put("warmup_ratio", 0.03, "The learning rate rises gently over the first 3% of steps, which avoids an "
        "unstable start.")
    put("lr_scheduler", "cosine", "The learning rate then falls smoothly to zero (cosine), which usually ends "
        "at the best model.")
    put("weight_decay", 0.0, "No weight decay: LoRA adapters are small and rarely need it.")
    put("max_grad_norm", 1.0, "Gradients are clipped at 1.0, a guard against sudden jumps in the loss.")
    put("seed", 42, "A fixed seed, so the same plan trains the same way twice.")
    for key in ("eval_every_steps", "checkpoint_every_steps", "warmup_ratio", "lr_scheduler", "weight_decay",
                "max_grad_norm", "seed"):
        if key in user:
            values[key] = user[key]

    # --- re-check what the user changed
    memory = memory_for(spec, values, available, device)
    user_warning: str | None = None
    if memory.estimated_peak_bytes > available and user:
        user_warning = (f"With your settings training needs about {gb(memory.estimated_peak_bytes)} and {where}: "
                        "it will run out of memory. Remove your changes to let PEFT Studio choose settings that fit.")
        warnings.append(user_warning)
    elif memory.estimated_peak_bytes > budget and user and not warnings:
        user_warning = (f"With your settings training needs about {gb(memory.estimated_peak_bytes)}, close to "
                        f"the limit ({where}); it may run out of memory.")
        warnings.append(user_warning)
    if user.get("quantization", "none") != "none" and device != "cuda":
        warnings.append("4-/8-bit loading needs an NVIDIA GPU with CUDA; on this computer it will fail.")
    cut = truncated_fraction(data, values["sequence_length"])
    if not assumed and cut >= 0.1:
        warnings.append(f"About {cut:.0%} of your examples are longer than {values['sequence_length']} tokens and "
                        "will be cut.")
    if assumed:
        warnings.append(f"No data statistics: durations assume {ASSUMED_STATS.rows:,} examples of about "
                        f"{ASSUMED_STATS.tokens_median} tokens. Give your data file for a precise plan.")

    suggested = choose_settings(hw, spec, profile, stats).settings if user and explain_overrides else {}
    settings: dict[str, Setting] = {}
    memory_keys = {"precision", "quantization", "micro_batch_size", "sequence_length", "gradient_checkpointing",
                   "lora_rank", "target_modules", "lora_dropout"}
    for key in (s.key for s in PLANNED):
        reason, source = reasons[key]
        if key in user:
            hint = suggested.get(key)
            why = f"You chose this; PEFT Studio suggests {hint.value}: {hint.reason}" if hint else "You chose this."
            settings[key] = Setting(values[key], why, "user", user_warning if key in memory_keys else None)
        else:
            settings[key] = Setting(values[key], reason, source)
    return Choice(settings=settings, memory=memory, warnings=tuple(warnings), stats=data, stats_assumed=assumed,
                  device=device, train_tokens=train_tokens, steps_per_epoch=steps_per_epoch)


__all__ = ["ASSUMED_STATS", "MEMORY_BUDGET", "Choice", "choose_settings", "kept_tokens",
           "memory_for", "truncated_fraction"]
