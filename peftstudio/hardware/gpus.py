"""A small catalog of GPU specifications, for planning on machines we do not have.

Figures are the vendors' published ones: memory, dense bf16 tensor TFLOP/s
(fp16 for cards without bf16), board power in watts, compute capability. Training accumulates
in fp32: GeForce cards run that at half their advertised (fp16-accumulate) rate, so their
figures here are the fp32-accumulate ones.

Example:
    >>> spec = find_gpu("rtx 3060")
    >>> spec.name, spec.memory_gb
    ('RTX 3060 12GB', 12)
"""

from __future__ import annotations

from attrs import frozen

from peftstudio.records.hardware import GpuInfo

GIB = 1024**3


@frozen
class GpuSpec:
    name: str
    memory_gb: float
    bf16_tflops: float
    board_power_watts: float
    compute_capability: str
    aliases: tuple[str, ...] = ()

    @property
    def bf16(self) -> bool:
        return float(self.compute_capability) >= 8.0

    def as_gpu(self) -> GpuInfo:
        """A simulated `GpuInfo` with all of its memory free."""
        mem = int(self.memory_gb * GIB)
        return GpuInfo(
            name=self.name,
            memory_total_bytes=mem,
            memory_free_bytes=mem,
            compute_capability=self.compute_capability,
            bf16=self.bf16,
            bf16_tflops=self.bf16_tflops,
            board_power_watts=self.board_power_watts,
            simulated=True,
        )


GPU_CATALOG: tuple[GpuSpec, ...] = (
    GpuSpec("GTX 1080 Ti 11GB", 11, 11.3, 250, "6.1", ("1080 ti", "gtx 1080 ti")),
    GpuSpec("T4 16GB", 16, 65, 70, "7.5", ("t4", "tesla t4")),
    GpuSpec("V100 16GB", 16, 125, 300, "7.0", ("v100",)),
    GpuSpec("RTX 3060 12GB", 12, 25.6, 170, "8.6", ("rtx 3060", "3060")),
    GpuSpec("RTX 3070 8GB", 8, 40.6, 220, "8.6", ("rtx 3070", "3070")),
    GpuSpec("RTX 3090 24GB", 24, 71, 350, "8.6", ("rtx 3090", "3090")),
    GpuSpec("RTX 4060 8GB", 8, 30.2, 115, "8.9", ("rtx 4060", "4060")),
    GpuSpec("RTX 4070 12GB", 12, 58.4, 200, "8.9", ("rtx 4070", "4070")),
    GpuSpec("RTX 4090 24GB", 24, 165, 450, "8.9", ("rtx 4090", "4090")),
    GpuSpec("L4 24GB", 24, 121, 72, "8.9", ("l4",)),
    GpuSpec("A10G 24GB", 24, 70, 300, "8.6", ("a10g", "a10")),
    GpuSpec("A100 40GB", 40, 312, 400, "8.0", ("a100 40gb", "a100-40gb")),
    GpuSpec("A100 80GB", 80, 312, 400, "8.0", ("a100", "a100 80gb", "a100-80gb")),
    GpuSpec("L40S 48GB", 48, 362, 350, "8.9", ("l40s",)),
    GpuSpec("H100 80GB", 80, 989, 700, "9.0", ("h100", "h100 80gb", "h100 sxm")),
    GpuSpec("H200 141GB", 141, 989, 700, "9.0", ("h200",)),
)


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("nvidia", "").replace("geforce", "").replace("-", " ").split())


def find_gpu(name: str) -> GpuSpec:
    """The catalog entry for a GPU name (case-insensitive; aliases such as ``h100`` work).

    A probed name matches an alias whose every word is one of its words (never a prefix:
    "A100" is not an "A10"); the alias with the most words wins ("A100 SXM4 40GB" -> A100 40GB).
    Raises `KeyError` listing the known names when nothing matches.

    Example:
        >>> find_gpu("NVIDIA A100-SXM4-40GB").name, find_gpu("NVIDIA A10").name
        ('A100 40GB', 'A10G 24GB')
    """
    want = _norm(name)
    for spec in GPU_CATALOG:
        if want == _norm(spec.name) or want in (_norm(a) for a in spec.aliases):
            return spec
    words = set(want.split())
    best: tuple[int, GpuSpec] | None = None
    for spec in GPU_CATALOG:  # a probed name such as "NVIDIA H100 80GB HBM3"
        for alias in spec.aliases:
            alias_words = _norm(alias).split()
            if alias_words and set(alias_words) <= words and (best is None or len(alias_words) > best[0]):
                best = (len(alias_words), spec)
    if best is not None:
        return best[1]
    known = ", ".join(s.name for s in GPU_CATALOG)
    raise KeyError(f"unknown GPU {name!r}; known GPUs: {known}")


def generic_gpu(memory_gb: float) -> GpuInfo:
    """A simulated GPU with only its memory known (e.g. from ``--gpu-memory 8``); mid-range speed assumed."""
    mem = int(memory_gb * GIB)
    return GpuInfo(
        name=f"GPU with {memory_gb:g} GB",
        memory_total_bytes=mem,
        memory_free_bytes=mem,
        compute_capability="8.6",
        bf16=True,
        bf16_tflops=60.0,
        board_power_watts=200.0,
        simulated=True,
    )
