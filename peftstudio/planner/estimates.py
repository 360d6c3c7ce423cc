"""How long a run takes, what it costs and how much CO2 it emits, as honest ranges.

Duration comes from the work (floating-point operations per token for LoRA training, times the
tokens seen) divided by the device's throughput at a realistic utilization range:

* a LoRA step runs the frozen model forward (2 FLOPs per weight per token) and propagates the
  gradient back through it (another 2; the frozen weights need no weight gradient), plus the
  attention scores; gradient checkpointing adds one more forward;
* a GPU reaches 20-45% of its dense bf16 peak on fine-tuning (less for small models, which
  cannot keep it busy); 4-bit loading adds ~30% for dequantizing weights on the fly;
* a CPU is calibrated on a measurement: LoRA training of SmolLM2-135M on 2 cores runs at about
  370 tokens/s (micro-batch 4 x 128), i.e. about 200 GFLOP/s; more cores scale sub-linearly;
* once this machine has finished runs, their own speed replaces the calibration (`MeasuredSpeed`): two
  machines of the same kind differ by more than the calibrated range allows (the 2-core development
  machine has trained SmolLM2 at 0.55 to 0.7 of it).

Energy is board power (or the CPU's share) times time, plus a share for the rest of the computer;
cost and CO2 follow from a rate per kWh and a grid intensity in kg CO2 per kWh.

Example:
    >>> r = Range(2.0, 3.0)
    >>> r.scale(2).max
    6.0
"""

from __future__ import annotations

import math

from attrs import frozen

from peftstudio.models.catalog import ModelSpec

#: The checks after training (the quality score's task and retention parts, `peftstudio.quality.run`) cost
#: about this many tokens through the model's forward pass, both models together (the 40 general questions'
#: statements scored, the 40 questions and 16 held-out examples answered). Calibrated against the training's
#: own speed in the same run (both are bound by the same matrix products): SmolLM2-135M on 2 cores, 49 s of
#: checks with nothing cached after a loop of 200 tokens/s (benchmarks/throughput.py --end-to-end,
#: 2026-12-06). The base model's half is cached for later runs on the same model.
CHECK_TOKENS = 20_000
#: New tokens the checks generate one after another (32 for a general question, up to 64 for a held-out
#: example, each model), and the time a GPU takes at least for each, whatever the model's size.
CHECK_DECODE_STEPS = 2 * (32 + 64)
GPU_DECODE_STEP_SECONDS = 0.025
#: Default electricity price per kWh (a typical household rate; the currency is free text).
DEFAULT_ELECTRICITY_RATE = 0.15
DEFAULT_CURRENCY = "USD"
#: World-average carbon intensity of electricity, kg CO2 per kWh (Ember, Global Electricity Review 2024:
#: 480 g CO2/kWh in 2023; the IEA gives a similar figure).
DEFAULT_GRID_INTENSITY = 0.48

#: CPU throughput calibrated on the measurement in the module docstring: FLOP/s on 2 cores.
CPU_FLOPS_2_CORES = 2.0e11
#: How throughput grows with cores (memory bandwidth limits the gain).
CPU_CORE_SCALING = 0.85
#: Spread around the calibrated CPU throughput (min and max relative speed).
CPU_SPEED_RANGE = (0.6, 1.15)
#: Around what this machine's recent runs reached (`MeasuredSpeed`): how much slower and faster a new run
#: may go (other work on the machine, a different shape of data).
MEASURED_SPREAD = (0.85, 1.1)
#: Share of a GPU's dense peak reached while fine-tuning (pessimistic, optimistic).
GPU_UTILIZATION = (0.20, 0.45)
#: Slowdown when the base model is loaded in 4 or 8 bits.
QUANTIZED_SLOWDOWN = {"none": 1.0, "4bit": 1.3, "8bit": 1.5}
#: Watts drawn by the rest of the computer (CPU, memory, fans, power supply losses).
SYSTEM_WATTS_GPU = 100.0
SYSTEM_WATTS_CPU = 40.0
WATTS_PER_CPU_CORE = 12.0
#: Share of board power a GPU draws while training (low, high).
GPU_POWER_SHARE = (0.7, 0.95)


@frozen
class Range:
    """A low and a high estimate (``min <= max``)."""

    min: float
    max: float

    def scale(self, factor: float) -> Range:
        return Range(self.min * factor, self.max * factor)

    @property
    def mid(self) -> float:
        return (self.min + self.max) / 2


#: How the speed of a plan without finished runs on its machine was found (`Estimates.speed_basis`).
CALIBRATED_BASIS = "the speed expected of this kind of hardware (after a run here: this machine's own)"


@frozen
class MeasuredSpeed:
    """How fast this machine has trained, from its own finished runs (`peftstudio.history.measured_speed`):
    each run's tokens per second over the middle of the range `throughput` expected for that run, so that a
    run on another model or with other settings still says how this machine compares with the calibration.

    Example:
        >>> m = MeasuredSpeed("processor (2 cores)", (0.55, 0.6))   # half the calibrated speed, a little more
        >>> speed = m.range(Range(200.0, 400.0))   # tokens/s the calibration expects of a run
        >>> round(speed.min), round(speed.max), m.basis
        (140, 198, "the speed this machine's last 2 runs reached")
    """

    device_name: str
    ratios: tuple[float, ...]  # newest first

    def range(self, calibrated: Range) -> Range:
        """The tokens per second to expect, from the `calibrated` range for the same run."""
        return Range(calibrated.mid * min(self.ratios) * MEASURED_SPREAD[0],
                     calibrated.mid * max(self.ratios) * MEASURED_SPREAD[1])

    @property
    def basis(self) -> str:
        """Where the speed comes from, in words."""
        runs = "last run" if len(self.ratios) == 1 else f"last {len(self.ratios)} runs"
        return f"the speed this machine's {runs} reached"


@frozen
class Estimates:
    """Time, energy, money and CO2 of a planned run.

    `electricity_rate_source` and `grid_intensity_source` are ``"default"`` or ``"user"``.
    `tokens` is the number of tokens processed in training (all epochs), `steps` the optimizer steps;
    `checks_seconds` the checks after training with nothing cached (`checks_seconds`).
    """

    duration_seconds: Range
    gpu_hours: Range
    energy_kwh: Range
    electricity_cost: Range
    currency: str
    co2_kg: Range
    electricity_rate: float
    electricity_rate_source: str
    grid_intensity: float
    grid_intensity_source: str
    tokens_per_second: Range
    tokens: int
    steps: int
    device: str
    checks_seconds: Range = Range(0.0, 0.0)
    speed_basis: str = CALIBRATED_BASIS  # where `tokens_per_second` comes from, in words


def training_flops_per_token(spec: ModelSpec, sequence_length: int, *, gradient_checkpointing: bool,
                             lora_parameters: int = 0) -> float:
    """FLOPs to train on one token with LoRA (frozen base).

    Example:
        >>> from peftstudio.models.catalog import find_model
        >>> f = training_flops_per_token(find_model("llama-3.1-8b"), 1024, gradient_checkpointing=False)
        >>> round(f / 1e9)
        31
    """
    matmul = spec.active_linear_parameters + spec.vocab_size * spec.hidden_size  # blocks (active experts) + head
    # causal attention: QK^T and AV, half the score matrix, 2 FLOPs per multiply-add
    attention_forward = spec.layers * 2 * sequence_length * spec.q_dim
    forwards = 2 if gradient_checkpointing else 1
    # forward + backward to the inputs (~2x forward) for the frozen weights; LoRA weights also get gradients
    return (forwards + 1) * 2 * matmul + (forwards + 2) * attention_forward + 6 * lora_parameters


def cpu_flops(cores: int) -> float:
    """Calibrated CPU training throughput in FLOP/s for `cores` cores."""
    return CPU_FLOPS_2_CORES * (max(cores, 1) / 2) ** CPU_CORE_SCALING


def _gpu_size_factor(spec: ModelSpec, tokens_per_micro_batch: int) -> float:
    # A small model or a small micro-batch cannot keep a GPU busy: its kernels are too small.
    width = min(1.0, spec.hidden_size / 4096) ** 0.5
    batch = min(1.0, tokens_per_micro_batch / 4096) ** 0.3
    return max(0.1, width * batch)


def throughput(spec: ModelSpec, *, device: str, flops_per_token: float, micro_batch_size: int,
               sequence_length: int, quantization: str, precision: str, cpu_cores: int,
               gpu_tflops: float | None) -> Range:
    """Tokens per second (low, high) on the device."""
    if device == "cpu":
        base = cpu_flops(cpu_cores) / flops_per_token
        return Range(base * CPU_SPEED_RANGE[0], base * CPU_SPEED_RANGE[1])
    peak = (gpu_tflops or 30.0) * 1e12
    if precision == "fp32":  # TF32 tensor cores at best: about half the 16-bit rate
        peak /= 2
    factor = _gpu_size_factor(spec, micro_batch_size * sequence_length) / QUANTIZED_SLOWDOWN[quantization]
    return Range(peak * GPU_UTILIZATION[0] * factor / flops_per_token,
                 peak * GPU_UTILIZATION[1] * factor / flops_per_token)


def checks_seconds(spec: ModelSpec, *, flops_per_token: float, speed: Range, device: str) -> Range:
    """How long the checks after training take (`CHECK_TOKENS` through the forward pass), from the training
    throughput `speed` (tokens per second at `flops_per_token`); on a GPU at least `CHECK_DECODE_STEPS` steps.

    Example:
        >>> from peftstudio.models.catalog import find_model
        >>> spec = find_model("smollm2-135m")
        >>> f = training_flops_per_token(spec, 256, gradient_checkpointing=False)
        >>> r = checks_seconds(spec, flops_per_token=f, speed=Range(200, 200), device="cpu")  # tokens/s
        >>> 45 < r.min == r.max < 55
        True
    """
    forward = 2 * (spec.active_linear_parameters + spec.vocab_size * spec.hidden_size)
    floor = CHECK_DECODE_STEPS * GPU_DECODE_STEP_SECONDS if device != "cpu" else 0.0
    return Range(max(floor, CHECK_TOKENS * forward / (speed.max * flops_per_token)),
                 max(floor, CHECK_TOKENS * forward / (speed.min * flops_per_token)))


def estimate_run(
    spec: ModelSpec,
    *,
    device: str,
    tokens: int,
    steps: int,
    sequence_length: int,
    micro_batch_size: int,
    quantization: str,
    precision: str,
    gradient_checkpointing: bool,
    lora_parameters: int,
    cpu_cores: int,
    gpu_tflops: float | None,
    gpu_watts: float | None,
    gpus: int = 1,
    electricity_rate: float | None = None,
    currency: str = DEFAULT_CURRENCY,
    grid_intensity: float | None = None,
    measured: MeasuredSpeed | None = None,
) -> Estimates:
    """Duration, GPU-hours, energy, cost and CO2 for training on `tokens` tokens; at the speed this machine
    has `measured` when given, else at the calibrated speed.

    Example:
        >>> from peftstudio.models.catalog import find_model
        >>> e = estimate_run(find_model("smollm2-135m"), device="cpu", tokens=370_000, steps=100,
        ...     sequence_length=128, micro_batch_size=4, quantization="none", precision="fp32",
        ...     gradient_checkpointing=False, lora_parameters=0, cpu_cores=2, gpu_tflops=None, gpu_watts=None)
        >>> 600 < e.duration_seconds.min < 1000 < e.duration_seconds.max < 2000
        True
    """
    flops = training_flops_per_token(spec, sequence_length, gradient_checkpointing=gradient_checkpointing,
                                     lora_parameters=lora_parameters)
    speed = throughput(spec, device=device, flops_per_token=flops, micro_batch_size=micro_batch_size,
                       sequence_length=sequence_length, quantization=quantization, precision=precision,
                       cpu_cores=cpu_cores, gpu_tflops=gpu_tflops)
    if measured is not None:
        speed = measured.range(speed)
    duration = Range(tokens / speed.max, tokens / speed.min) if tokens else Range(0.0, 0.0)
    if device == "cpu":
        watts = Range(SYSTEM_WATTS_CPU + WATTS_PER_CPU_CORE * cpu_cores * 0.7,
                      SYSTEM_WATTS_CPU + WATTS_PER_CPU_CORE * cpu_cores)
        gpu_hours = Range(0.0, 0.0)
    else:
        board = gpu_watts or 250.0
        watts = Range(SYSTEM_WATTS_GPU + gpus * board * GPU_POWER_SHARE[0],
                      SYSTEM_WATTS_GPU + gpus * board * GPU_POWER_SHARE[1])
        gpu_hours = duration.scale(gpus / 3600)
    energy = Range(watts.min * duration.min / 3.6e6, watts.max * duration.max / 3.6e6)
    rate = DEFAULT_ELECTRICITY_RATE if electricity_rate is None else float(electricity_rate)
    grid = DEFAULT_GRID_INTENSITY if grid_intensity is None else float(grid_intensity)
    return Estimates(
        duration_seconds=duration,
        gpu_hours=gpu_hours,
        energy_kwh=energy,
        electricity_cost=energy.scale(rate),
        currency=currency,
        co2_kg=energy.scale(grid),
        electricity_rate=rate,
        electricity_rate_source="default" if electricity_rate is None else "user",
        grid_intensity=grid,
        grid_intensity_source="default" if grid_intensity is None else "user",
        tokens_per_second=speed,
        tokens=int(tokens),
        steps=int(steps),
        device=device,
        checks_seconds=checks_seconds(spec, flops_per_token=flops, speed=speed, device=device),
        speed_basis=measured.basis if measured is not None else CALIBRATED_BASIS,
    )


def human_duration(seconds: float) -> str:
    """``about 3 minutes`` style wording.

    Example:
        >>> human_duration(5400)
        '1.5 hours'
    """
    if seconds < 90:
        return f"{max(1, math.ceil(seconds))} seconds"
    if seconds < 5400:
        return f"{round(seconds / 60)} minutes"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def human_range(seconds: Range) -> str:
    """A duration range in words; "about ..." when both ends read the same.

    Example:
        >>> human_range(Range(107, 138)), human_range(Range(60, 120))
        ('about 2 minutes', '60 seconds to 2 minutes')
    """
    low, high = human_duration(seconds.min), human_duration(seconds.max)
    return f"about {low}" if low == high else f"{low} to {high}"


__all__ = [
    "CALIBRATED_BASIS",
    "DEFAULT_CURRENCY",
    "DEFAULT_ELECTRICITY_RATE",
    "DEFAULT_GRID_INTENSITY",
    "Estimates",
    "MeasuredSpeed",
    "Range",
    "cpu_flops",
    "estimate_run",
    "human_duration",
    "human_range",
    "throughput",
    "training_flops_per_token",
]
