"""Benchmark: exporting the built-in SmolLM2 as GGUF through llama.cpp's converter and quantizer.

For `builtin:smollm2-135m` the converter writes the f16 file once (timed), then llama.cpp's quantizer makes
each k-quant type from it (timed); q8_0 the converter writes directly (timed). Each type's file size is
given with its ratio against the f16 file. Then `export_gguf(..., quant="q4_k_m")` runs whole (atomic
folder, checks, conversion and quantization) and is compared with the converter and the quantizer run by
hand in the same run, alternately, twice each, the quicker of each kept (`ours_vs_by_hand`; the target is at
most 1.1).

Prints ONE JSON line. Run: ``.venv/bin/python benchmarks/export_speed.py [--model builtin:smollm2-135m]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

K_QUANTS = ("q4_k_m", "q5_k_m", "q6_k")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="builtin:smollm2-135m")
    args = parser.parse_args()

    from peftstudio.export import ExportSource, converter, export_gguf
    from peftstudio.export.source import base_folder

    source = ExportSource(args.model)
    folder = base_folder(source)
    load_before = os.getloadavg()[0]
    types: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="peftstudio-bench-export-") as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        f16 = converter.convert(folder, out / "m-F16.gguf", "f16")
        convert_s = time.perf_counter() - started
        f16_size = f16.stat().st_size
        types["f16"] = {"convert_s": round(convert_s, 2), "quantize_s": 0.0, "total_s": round(convert_s, 2),
                        "size_bytes": f16_size, "size_vs_f16": 1.0}
        started = time.perf_counter()
        q8 = converter.convert(folder, out / "m-Q8_0.gguf", "q8_0")
        q8_s = time.perf_counter() - started
        types["q8_0"] = {"convert_s": round(q8_s, 2), "quantize_s": 0.0, "total_s": round(q8_s, 2),
                         "size_bytes": q8.stat().st_size, "size_vs_f16": round(q8.stat().st_size / f16_size, 3)}
        for quant in K_QUANTS:
            started = time.perf_counter()
            path = converter.quantize(f16, out / f"m-{quant.upper()}.gguf", quant)
            quantize_s = time.perf_counter() - started
            types[quant] = {"convert_s": round(convert_s, 2), "quantize_s": round(quantize_s, 2),
                            "total_s": round(convert_s + quantize_s, 2), "size_bytes": path.stat().st_size,
                            "size_vs_f16": round(path.stat().st_size / f16_size, 3)}
        # ours and by hand alternately, twice each, the quicker of each kept: the first file read and the
        # other developers' load on this shared machine otherwise favour whichever runs later
        ours_runs, by_hand_runs = [], [types["q4_k_m"]["total_s"]]
        for i in range(2):
            started = time.perf_counter()
            result = export_gguf(source, out / f"ours-{i}", quant="q4_k_m")
            ours_runs.append(time.perf_counter() - started)
            if i == 0:
                started = time.perf_counter()
                f16_again = converter.convert(folder, out / "again-F16.gguf", "f16")
                converter.quantize(f16_again, out / "again-Q4_K_M.gguf", "q4_k_m")
                by_hand_runs.append(time.perf_counter() - started)
    ours_s, by_hand = min(ours_runs), min(by_hand_runs)
    print(json.dumps({
        "benchmark": "export_speed", "model": args.model, "types": types,
        "ours_q4_k_m_s": round(ours_s, 2), "by_hand_q4_k_m_s": round(by_hand, 2),
        "ours_runs_s": [round(t, 2) for t in ours_runs], "by_hand_runs_s": [round(t, 2) for t in by_hand_runs],
        "ours_vs_by_hand": round(ours_s / by_hand, 3), "ours_q4_k_m_bytes": result.size_bytes,
        "within_1_1x": ours_s / by_hand <= 1.1, "load_before": round(load_before, 2), "cores": os.cpu_count(),
        "date": datetime.date.today().isoformat(), "machine": "2-core shared VM (CPU)",
    }))


if __name__ == "__main__":
    main()
