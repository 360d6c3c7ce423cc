"""Benchmark: the data check on a generated 1,000,000-row chat JSONL file, against what a user waits for.

Targets: under 10 s wall time and under 1 GiB peak memory (RSS) for 1,000,000 rows, on the 2-core machine
the figures in `results/cpu-2core.jsonl` come from. Each run is a fresh child process (imports included in
its time), reporting progress to a callback as the CLI's bar does; its peak RSS is `resource.getrusage`'s.
The machine's load average before the runs is reported too: the cores are shared, so figures drift with it.
Prints one JSON line: ``{"rows", "file_mb", "check_s" (median), "check_cpu_s", "peak_rss_mb" (largest),
"progress_calls", "findings", "load_before", "pass"}``.

    .venv/bin/python benchmarks/data_check.py [--rows N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TOPICS = ["ships", "rivers", "bread", "stars", "gardens", "trains", "music", "clouds", "maps", "bees", "tea", "rain"]
VERBS = ["explain", "describe", "summarise", "compare", "list facts about", "tell me about"]
TARGET_S = 10.0
TARGET_RSS = 2**30

_CHILD = """
import json, resource, sys, time
t = time.perf_counter()
from peftstudio.data import check_file
calls = []
report = check_file(sys.argv[1], progress=lambda done, total: calls.append(done))
elapsed = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "cpu": ru.ru_utime + ru.ru_stime, "rss": ru.ru_maxrss * 1024,
                  "rows": report.rows, "codes": list(report.codes()), "progress_calls": len(calls)}))
"""


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """A chat JSONL file with distinct rows (and a few copies, as real data has)."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(rows):
            topic, verb = rng.choice(TOPICS), rng.choice(VERBS)
            n = i if rng.random() > 0.001 else i // 2  # about 0.1% exact copies
            user = f"Please {verb} {topic}, item {n}."
            answer = f"Here is something about {topic} number {n}: it is {rng.choice(TOPICS)} and {n % 97} more."
            fh.write(json.dumps({"messages": [{"role": "user", "content": user},
                                              {"role": "assistant", "content": answer}]}) + "\n")


def _child(path: Path) -> dict:  # type: ignore[type-arg]
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median time and the largest RSS count")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peftstudio-bench-") as tmp:
        path = Path(tmp) / "big.jsonl"
        generate(path, args.rows)
        load = os.getloadavg()[0]
        runs = [_child(path) for _ in range(args.repeat)]
        assert all(r["rows"] == args.rows for r in runs)
        seconds = statistics.median(r["seconds"] for r in runs)
        rss = max(r["rss"] for r in runs)
        print(json.dumps({
            "benchmark": "data_check",
            "rows": args.rows,
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "repeat": args.repeat,
            "check_s": round(seconds, 2),
            "check_runs_s": [round(r["seconds"], 2) for r in runs],
            "check_cpu_s": round(statistics.median(r["cpu"] for r in runs), 2),
            "peak_rss_mb": round(rss / 2**20, 1),
            "progress_calls": runs[0]["progress_calls"],
            "findings": runs[0]["codes"],
            "load_before": round(load, 2),
            "cores": os.cpu_count(),
            "pass": seconds < TARGET_S and rss < TARGET_RSS,
        }))


if __name__ == "__main__":
    main()
