"""`peftstudio runs list` and `peftstudio runs show RUN`: status, configuration, metrics and events.

The ``compare``, ``table`` and ``clone`` actions of the same group live in `peftstudio.cli.runs_history`.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("runs", help="list training runs and show one in detail")
    sub = parser.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="all runs, newest first")
    listing.add_argument("--status", choices=("queued", "running", "paused", "failed", "completed"))
    listing.add_argument("--json", action="store_true", help="print as JSON")
    listing.set_defaults(func=_list)
    show = sub.add_parser("show", help="one run: status, configuration, metrics summary and events")
    show.add_argument("run", help="run id (a unique beginning is enough)")
    show.add_argument("--json", action="store_true", help="print as JSON")
    show.set_defaults(func=_show)
    from peftstudio.cli.runs_history import add_compare_and_clone

    add_compare_and_clone(sub)


def metrics_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per metric: last value and its step, min, max and count.

    Example:
        >>> metrics_summary([{"name": "loss", "step": 1, "value": 2.0}, {"name": "loss", "step": 2, "value": 1.5}])
        {'loss': {'last': 1.5, 'last_step': 2, 'min': 1.5, 'max': 2.0, 'count': 2}}
    """
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        m = out.setdefault(r["name"], {"last": r["value"], "last_step": r["step"], "min": r["value"],
                                       "max": r["value"], "count": 0})
        m.update(last=r["value"], last_step=r["step"], min=min(m["min"], r["value"]), max=max(m["max"], r["value"]))
        m["count"] += 1
    return out


def run_document(run_id: str) -> dict[str, Any]:
    """Everything `runs show --json` prints about one run."""
    from peftstudio.engine.runs import run_status
    from peftstudio.records import convert
    from peftstudio.store import open_store

    store = open_store()
    run = run_status(run_id, store)
    readings = store.readings(run.id, last=1)
    return {
        "id": run.id, "name": run.name, "status": run.status, "created_at": run.created_at,
        "started_at": run.started_at, "finished_at": run.finished_at, "elapsed_seconds": run.elapsed_seconds,
        "folder": run.folder, "config": convert.to_document(run.config), "summary": run.summary, "error": run.error,
        "metrics": metrics_summary(store.metrics(run.id)), "events": store.events(run.id),
        "latest_reading": readings[-1] if readings else None,
    }


def _row(run: Any) -> dict[str, Any]:
    return {"id": run.id, "name": run.name, "status": run.status, "model": run.config.model.reference,
            "profile": run.config.profile, "created_at": run.created_at, "elapsed_seconds": run.elapsed_seconds,
            "steps": run.summary.get("steps") or run.summary.get("step"),
            "final_loss": run.summary.get("final_loss")}


def _list(args: argparse.Namespace) -> int:
    from peftstudio.engine.runs import run_status
    from peftstudio.store import open_store

    store = open_store()
    runs = [run_status(r.id, store) for r in store.list_runs(args.status)]
    if args.json:
        print_json([_row(r) for r in runs])
        return 0
    if not runs:
        print("No runs yet. Start one with: peftstudio train --profile chatbot --model builtin:smollm2-135m --data FILE")
        return 0
    print(f"{'run':<28} {'status':<10} {'model':<24} {'when':<17} {'steps':>6} {'loss':>7}")
    for r in runs:
        row = _row(r)
        loss = f"{row['final_loss']:.3f}" if row["final_loss"] is not None else "-"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        print(f"{r.id:<28} {r.status:<10} {row['model'][:24]:<24} {when:<17} {row['steps'] or '-':>6} {loss:>7}")
    return 0


def _show(args: argparse.Namespace) -> int:
    doc = run_document(args.run)
    if args.json:
        print_json(doc)
        return 0
    cfg = doc["config"]
    print(f"Run {doc['id']}{' (' + doc['name'] + ')' if doc['name'] else ''}: {doc['status']}")
    print(f"  model {cfg['model']['reference']}, profile {cfg['profile']}, data {cfg['data']['path']}")
    t = cfg["training"]
    print(f"  learning rate {t['learning_rate']}, micro-batch {t['micro_batch_size']} x {t['gradient_accumulation']},"
          f" sequence length {t['sequence_length']}, LoRA rank {cfg['lora']['rank']}")
    for name in ("loss", "val_loss", "tokens_per_second", "learning_rate", "grad_norm"):
        m = doc["metrics"].get(name)
        if m:
            print(f"  {name:<18} last {m['last']:.4g} (step {m['last_step']}), min {m['min']:.4g}, {m['count']} values")
    if doc["error"]:
        print(f"  error: {doc['error']['title']} - {doc['error']['explanation']}")
    quality = doc["summary"].get("quality")
    if isinstance(quality, dict):  # the score with its parts (task, retention, training health) and suggestions
        from peftstudio.quality import QualityScore
        from peftstudio.records.convert import from_dict

        print("  " + from_dict(QualityScore, quality).render().replace("\n", "\n  "))
    print("  events:")
    for e in doc["events"][-15:]:
        when = time.strftime("%H:%M:%S", time.localtime(e["time"]))
        print(f"    {when} {e['kind']:<16} {e['message']}")
    return 0
