"""Benchmark: how soon a run started in the studio takes its first step, with and without the spare worker.

A studio server runs in this process (uvicorn on a loopback port, in a thread), with ``spare_worker`` on
or off; 10 s after it starts (a person opening the page and choosing their data) a run is started through
the API (``POST /api/runs``: `builtin:smollm2-135m` on the bundled pirate chat, 2 steps) and timed until
its first training loss is stored, less that step's own time (the second step's). Rounds alternate off,
on, on, off so a drift in the machine's speed hits both alike. Prints ONE JSON line: ``off_s`` and
``on_s`` (medians) and ``spare_speedup`` (off / on).

    .venv/bin/python benchmarks/studio_start.py [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SESSION = "benchmark-session-key"
START = {"profile": "chatbot", "model": "builtin:smollm2-135m", "data": "sample:pirate_chat.jsonl",
         "overrides": {"max_steps": 2, "quality_checks": False}}


def one(home: Path, spare: bool) -> float:
    """Seconds from the start request to the end of the first step, less that step's time."""
    import attrs
    import httpx
    import uvicorn

    from peftstudio.server import ServerSettings, create_app
    from peftstudio.server.run import bind
    from peftstudio.store import open_store

    os.environ["PEFTSTUDIO_HOME"] = str(home)
    settings = ServerSettings.create("127.0.0.1", 0, session_key=SESSION, spare_worker=spare)
    sock = bind(settings.host, 0)
    settings = attrs.evolve(settings, port=sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    time.sleep(10)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{settings.port}", cookies={"peftstudio_session": SESSION},
                          timeout=120) as client:
            started = time.time()
            r = client.post("/api/runs", json=START)
            r.raise_for_status()
            run_id = r.json()["id"]
            store = open_store()
            while True:
                losses = [m["time"] for m in store.metrics(run_id, "loss")]
                if len(losses) >= 2 or store.get_run(run_id).status in ("completed", "failed"):
                    break
                time.sleep(0.1)
            if len(losses) < 2:
                raise SystemExit(f"the run did not train: {store.get_run(run_id).error}")
            while store.get_run(run_id).status not in ("completed", "failed", "paused"):
                time.sleep(0.2)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return losses[0] - started - (losses[1] - losses[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studio-start-") as tmp:
        home = Path(tmp) / "home"
        os.environ["PEFTSTUDIO_HOME"] = str(home)
        from peftstudio.models import model_folder

        model_folder("builtin:smollm2-135m")  # the model cache warm, as a user's is
        times: dict[bool, list[float]] = {False: [], True: []}
        for spare in [False, True, True, False] * args.rounds:
            times[spare].append(one(home, spare))
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(json.dumps({"benchmark": "studio_start", "model": "builtin:smollm2-135m", "rounds": args.rounds,
                      "off_s": round(off, 2), "on_s": round(on, 2), "spare_speedup": round(off / on, 2),
                      "runs": {"off": [round(t, 2) for t in times[False]], "on": [round(t, 2) for t in times[True]]}}))


if __name__ == "__main__":
    main()
