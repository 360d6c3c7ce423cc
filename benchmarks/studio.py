"""Benchmark: the studio in the browser, in Debian's Chromium (headless).

- ``first_paint_s``: from starting ``peftstudio app --no-browser`` to the home screen painted in the browser
  (the process starts, prints its link, the browser opens it, signs in and draws the first screen).
- The live dashboard while a run receives 10 metric events per second (loss, ETA) for ``--seconds``:
  ``frame_p95_ms``, the 95th percentile of the time between animation frames (headless Chromium draws at
  most 60 frames a second, so 16.7 ms is its floor: a frame that took longer shows as a gap of 33 ms);
  ``dropped_frames``, the gaps over 25 ms; ``busy_ms_per_frame``, the main thread's work (script, style,
  layout, paint; Chromium's own TaskDuration) per frame, which is what the 16 ms target is about;
  ``long_tasks``, main-thread tasks over 50 ms. Passes when busy_ms_per_frame < 16, no frame is dropped
  beyond 1 % and there is no long task.
- ``js_gzip_kb``: the page's JavaScript, gzip-compressed, as it ships in the package.

The cores are shared on the 2-core machine the figures in ``results/`` come from; the load average before
the run is reported. Prints one JSON line.

    .venv/bin/python benchmarks/studio.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "peftstudio" / "server" / "static"
CHROMIUM = os.environ.get("PEFTSTUDIO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def js_gzip_kb() -> float:
    return round(sum(len(gzip.compress(p.read_bytes(), 9)) for p in (STATIC / "assets").glob("*.js")) / 1024, 1)


def feed(run_id: str, seconds: float, stop: threading.Event) -> int:
    """10 metric events a second into the store, as a worker writes them."""
    from peftstudio.store import open_store

    store = open_store()
    sent, step, t0 = 0, 0, time.monotonic()
    while not stop.is_set() and time.monotonic() - t0 < seconds:
        step += 1
        store.add_metrics(run_id, step, {"loss": 3.0 * 0.999**step}, tokens_seen=step * 512)
        sent += 1
        if step % 3 == 0:
            store.add_metrics(run_id, step, {"eta_seconds": 600 - step, "eta_low_seconds": 550 - step,
                                             "eta_high_seconds": 650 - step})
            sent += 1
        time.sleep(max(0.0, t0 + sent / 10 - time.monotonic()))
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = tempfile.mkdtemp(prefix="peftstudio-bench-")
    env = {**os.environ, "PEFTSTUDIO_HOME": home, "PYTHONPATH": str(ROOT)}
    os.environ["PEFTSTUDIO_HOME"] = home
    load = os.getloadavg()[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "peftstudio.cli.main", "app", "--no-browser"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            assert proc.stdout is not None
            url = None
            while url is None:
                m = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", proc.stdout.readline())
                url = m.group(0) if m else None
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(url)
            page.get_by_role("button", name="New training").wait_for()
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            first_paint = time.perf_counter() - t0

            from peftstudio.records import DataSettings, ModelChoice, RunConfig
            from peftstudio.store import open_store

            store = open_store()
            run_id = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                                data=DataSettings(path="x.jsonl")), name="benchmark").id
            store.update_run(run_id, status="running", summary={"total_steps": 100_000})
            page.goto(url.split("?")[0] + f"#/runs/{run_id}")
            page.get_by_role("heading", name="benchmark").wait_for()
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")

            def busy() -> float:
                return float(next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                                  if m["name"] == "TaskDuration"))

            busy_before = busy()
            stop = threading.Event()
            sent: list[int] = []
            feeder = threading.Thread(target=lambda: sent.append(feed(run_id, args.seconds + 1, stop)))
            feeder.start()
            measured = page.evaluate("""(ms) => new Promise(done => {
                let long = 0;
                new PerformanceObserver((l) => { long += l.getEntries().length; }).observe({type: 'longtask'});
                const gaps = []; let last = performance.now(); const end = last + ms;
                const tick = (t) => { gaps.push(t - last); last = t;
                  if (t < end) requestAnimationFrame(tick); else done([gaps, long]); };
                requestAnimationFrame(tick); })""", args.seconds * 1000)
            frames, long_tasks = measured
            busy_s = busy() - busy_before
            stop.set()
            feeder.join()
            drawn = page.get_by_test_id("loss").inner_text()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        browser.close()
    gaps = sorted(frames[1:])
    p95 = gaps[int(0.95 * (len(gaps) - 1))] if gaps else None
    dropped = sum(g > 25 for g in gaps)
    per_frame = 1000 * busy_s / max(1, len(gaps))
    print(json.dumps({
        "benchmark": "studio", "first_paint_s": round(first_paint, 2), "frame_p95_ms": round(p95 or 0, 1),
        "frame_max_ms": round(gaps[-1], 1) if gaps else None, "frames": len(gaps), "dropped_frames": dropped,
        "busy_ms_per_frame": round(per_frame, 2), "long_tasks": long_tasks,
        "events_per_s": round(sum(sent) / (args.seconds + 1), 1), "loss_shown": drawn, "js_gzip_kb": js_gzip_kb(),
        "load_before": round(load, 2),
        "pass": bool(gaps) and per_frame < 16.0 and dropped <= 0.01 * len(gaps) and long_tasks == 0,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
