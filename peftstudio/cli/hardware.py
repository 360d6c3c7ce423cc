"""`peftstudio hardware [--json]`: what this machine offers for training."""

from __future__ import annotations

import argparse

from peftstudio.cli.output import print_json
from peftstudio.units import human_bytes


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("hardware", help="show this machine's CPU, memory, disk and GPUs")
    parser.add_argument("--json", action="store_true", help="print the probe as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peftstudio.hardware import hardware_dict, probe_hardware

    hw = probe_hardware()
    if args.json:
        print_json(hardware_dict(hw))
        return 0
    print(f"Processor: {hw.cpu_cores} cores ({hw.cpu_name})")
    print(f"Memory:    {human_bytes(hw.ram_total_bytes)} total, {human_bytes(hw.ram_available_bytes)} available")
    print(f"Disk:      {human_bytes(hw.disk_free_bytes)} free in the PEFT Studio home folder")
    if not hw.gpus:
        print("GPU:       none found" + (" (Apple MPS available)" if hw.mps else "; training will use the processor"))
    for i, g in enumerate(hw.gpus):
        extra = f", {g.temperature_c:.0f} °C" if g.temperature_c is not None else ""
        print(f"GPU {i}:     {g.name}, {human_bytes(g.memory_total_bytes)} "
              f"({human_bytes(g.memory_free_bytes)} free), bf16 {'yes' if g.bf16 else 'no'}{extra}")
    return 0
