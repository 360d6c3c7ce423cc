"""Benchmark: the data check on a generated 1,000,000-row JSONL file, next to `datasets.load_dataset("json")`.

Both run in their own child process on the same file in the same run; each child reports its wall time,
its CPU time (all threads, and the check's worker processes; fairer on a busy machine) and peak memory
(RSS, from `resource.getrusage`; for the check, its own peak plus each worker process at the largest
worker's peak).
Prints one JSON line: ``{"rows", "file_mb", "check_s", "datasets_s", "ratio" (check / datasets),
"check_cpu_s", "datasets_cpu_s", "cpu_ratio", "check_peak_rss_mb", "datasets_peak_rss_mb", "rss_under_1gib"}``.

Each side runs `--repeat` times (3 by default), alternating which goes first; medians are reported, with
the ratio of each pair.

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

_CHILD_CHECK = """
import json, resource, sys, time
t = time.perf_counter()
from peftstudio.data import check_file, fastpath
from peftstudio.data.readers import open_source
workers = fastpath._default_processes(open_source(sys.argv[1]))
report = check_file(sys.argv[1])
elapsed = time.perf_counter() - t
ru, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
# Worker processes count too: their CPU time, and their peak RSS added to ours (a bound on the total).
print(json.dumps({"seconds": elapsed, "cpu": ru.ru_utime + ru.ru_stime + kids.ru_utime + kids.ru_stime,
                  "rss": ru.ru_maxrss * 1024, "workers": workers, "workers_rss": kids.ru_maxrss * 1024 * workers,
                  "rows": report.rows, "codes": list(report.codes())}))
"""

_CHILD_DATASETS = """
import json, resource, sys, time
t = time.perf_counter()
import datasets
ds = datasets.load_dataset("json", data_files=sys.argv[1], cache_dir=sys.argv[2], split="train")
elapsed = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "cpu": ru.ru_utime + ru.ru_stime, "rss": ru.ru_maxrss * 1024, "rows": len(ds)}))
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


def _child(code: str, *args: str) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; medians are reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peftstudio-bench-") as tmp:
        path = Path(tmp) / "big.jsonl"
        generate(path, args.rows)
        checks: list[dict] = []  # type: ignore[type-arg]
        hfs: list[dict] = []  # type: ignore[type-arg]
        for i in range(args.repeat):  # alternating which goes first, against drift in the machine's speed
            for side in (("check", "datasets") if i % 2 == 0 else ("datasets", "check")):
                if side == "check":
                    checks.append(_child(_CHILD_CHECK, str(path)))
                else:
                    hfs.append(_child(_CHILD_DATASETS, str(path), str(Path(tmp) / f"hf-cache-{i}")))
        assert all(c["rows"] == args.rows for c in checks) and all(h["rows"] == args.rows for h in hfs)

        def median(runs: list[dict], key: str) -> float:  # type: ignore[type-arg]
            return statistics.median(r[key] for r in runs)

        check_s, hf_s = median(checks, "seconds"), median(hfs, "seconds")
        check_cpu, hf_cpu = median(checks, "cpu"), median(hfs, "cpu")
        rss = max(c["rss"] + c["workers_rss"] for c in checks)
        print(json.dumps({
            "benchmark": "data_check",
            "rows": args.rows,
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "repeat": args.repeat,
            "check_s": round(check_s, 2),
            "datasets_s": round(hf_s, 2),
            "ratio": round(check_s / hf_s, 3),
            "ratios": [round(c["seconds"] / h["seconds"], 3) for c, h in zip(checks, hfs, strict=True)],
            "check_cpu_s": round(check_cpu, 2),
            "datasets_cpu_s": round(hf_cpu, 2),
            "cpu_ratio": round(check_cpu / hf_cpu, 3),
            "check_workers": checks[0]["workers"],
            # main process + every worker at the largest worker's peak: a bound on the check's total RSS
            "check_peak_rss_mb": round(rss / 2**20, 1),
            "datasets_peak_rss_mb": round(max(h["rss"] for h in hfs) / 2**20, 1),
            "rss_under_1gib": rss < 2**30,
            "check_findings": checks[0]["codes"],
            "pass": check_s < hf_s and rss < 2**30,
        }))

if __name__ == "__main__":
    main()
