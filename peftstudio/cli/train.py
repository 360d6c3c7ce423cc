"""`peftstudio train`, `pause`, `resume`: start a run in a worker process and follow it with a progress bar.

``peftstudio train --profile chatbot --model builtin:smollm2-135m --data chat.jsonl [--max-steps N]
[--set key=value ...]`` plans the run exactly like ``peftstudio plan`` (same choices and overrides),
starts it, and shows step, loss, tokens/s and the remaining time with its range. Ctrl-C pauses the
run (it can be resumed later); ``--detach`` returns at once.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from peftstudio.cli.output import print_json
from peftstudio.settings import spec


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    train = subparsers.add_parser("train", help="plan and start a training run, with a progress bar")
    train.add_argument("--profile", help="what the model should learn (e.g. chatbot); see `peftstudio plan`")
    train.add_argument("--model", help="base model: builtin:NAME, a folder, a .gguf file or a hub id (default: the "
                                       "profile's best model for this machine, with the reason)")
    train.add_argument("--data", help="the training data file")
    train.add_argument("--config", metavar="FILE", help="train from a saved run configuration instead of planning")
    train.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a planned setting (repeatable), e.g. --set learning_rate=1e-4 "
                            "(the settings: peftstudio config settings)")
    train.add_argument("--devices", type=int, help="number of GPUs (or processes on the CPU) to train on")
    train.add_argument("--strategy", choices=spec("strategy").choices,
                       help="how several devices share the work (Lightning strategies)")
    train.add_argument("--name", default="", help="a name for the run")
    train.add_argument("--detach", action="store_true", help="start the run and return; follow it with `runs show`")
    train.add_argument("--json", action="store_true", help="print the final run as JSON (no progress bar)")
    train.add_argument("--no-notify", action="store_true",
                       help="no desktop notifications (milestones, errors, completion) while following the run")
    train.set_defaults(func=_train)

    pause = subparsers.add_parser("pause", help="pause a running training run (it keeps a checkpoint)")
    pause.add_argument("run", help="run id (a unique beginning is enough)")
    pause.add_argument("--no-wait", action="store_true", help="ask for the pause and return at once")
    pause.add_argument("--json", action="store_true", help="print the run as JSON")
    pause.set_defaults(func=_pause)

    resume = subparsers.add_parser("resume", help="continue a paused or interrupted run from its last checkpoint")
    resume.add_argument("run", help="run id (a unique beginning is enough)")
    resume.add_argument("--detach", action="store_true", help="resume in the background and return")
    resume.add_argument("--json", action="store_true", help="print the final run as JSON (no progress bar)")
    resume.add_argument("--no-notify", action="store_true", help="no desktop notifications while following it")
    resume.set_defaults(func=_resume)


def build_config(args: argparse.Namespace) -> Any:
    """The `RunConfig` for the command line: from --config, or planned from profile, model and data."""
    import attrs

    from peftstudio.errors import make
    from peftstudio.records import RunConfig, convert

    if args.config:
        config = convert.load(RunConfig, args.config)
        if args.overrides or args.max_steps:
            raise make("config_invalid", problems="--set and --max-steps work with planning; edit the file instead")
    else:
        missing = [flag for flag, value in (("--profile", args.profile), ("--data", args.data)) if not value]
        if missing:
            raise make("config_invalid", problems=f"missing {', '.join(missing)} (or give --config FILE)")
        from peftstudio.hardware import probe_hardware
        from peftstudio.planner import plan

        overrides = list(args.overrides)
        if args.max_steps:
            overrides.append(f"max_steps={args.max_steps}")
        from peftstudio.data import planning_stats
        from peftstudio.history.speed import measured_speed

        hardware = probe_hardware()
        measured = measured_speed(hardware)  # this machine's own speed, once it has finished a run
        model = args.model
        stats: Any
        if model:
            stats = planning_stats(args.data, model)  # the same measurement as `plan` and the app
        else:  # the profile picks the model for this machine, and says why
            from peftstudio.cli.plan import say_pick
            from peftstudio.data.planning import pick_model_for

            pick, stats = pick_model_for(hardware, args.profile, args.data, overrides, measured=measured)
            model = pick.reference
            say_pick(pick)
        data = str(Path(args.data).expanduser().resolve())  # the worker (and a later resume) may run elsewhere
        p = plan(hardware, model, args.profile, stats, overrides, data_path=data, measured=measured)
        config = p.run_config(data, name=args.name)
    training = config.training
    if args.devices:
        training = attrs.evolve(training, devices=args.devices)
    if args.strategy:
        training = attrs.evolve(training, strategy=args.strategy)
    return attrs.evolve(config, training=training, name=args.name or config.name)


def _train(args: argparse.Namespace) -> int:
    from peftstudio.engine.runs import WarmWorker, start_run

    worker = WarmWorker.start()  # it loads the libraries while the run is planned and the data checked
    try:
        config = build_config(args)
        run_id = start_run(config, worker=worker)
    finally:
        worker.cancel()
    if args.detach:
        print(run_id)
        return 0
    return follow(run_id, as_json=args.json, notifier=desktop_notifier(run_id, not args.no_notify and not args.json))


def _pause(args: argparse.Namespace) -> int:
    from peftstudio.engine.runs import pause_run

    run = pause_run(args.run, wait=not args.no_wait)
    if args.json:
        print_json({"id": run.id, "status": run.status, "summary": run.summary})
    elif args.no_wait:
        print(f"Asked {run.id} to pause; it stops after the current micro-batch.")
    elif run.status == "paused":
        p = run.summary.get("pause", {})
        print(f"Paused {run.id} at step {p.get('step', '?')}. Resume with: peftstudio resume {run.id}")
    else:
        print(f"{run.id} is {run.status}.")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from peftstudio.engine.runs import resume_run

    run_id = resume_run(args.run)
    if args.detach:
        print(run_id)
        return 0
    return follow(run_id, as_json=args.json, notifier=desktop_notifier(run_id, not args.no_notify and not args.json))


def _latest(store: Any, run_id: str, after: int, latest: dict[str, float]) -> int:
    rows = store.metrics_after(run_id, after)
    for r in rows:
        latest[r["name"]] = r["value"]
        latest["step"] = max(latest.get("step", 0), r["step"])
    return int(rows[-1]["id"]) if rows else after


def progress_text(latest: dict[str, float]) -> str:
    """``loss 1.234 · 512 tok/s · ETA 4m 10s (3m 50s-4m 40s)`` from the newest metrics.

    Example:
        >>> progress_text({"loss": 1.5, "tokens_per_second": 99.6, "eta_seconds": 70, "eta_low_seconds": 60,
        ...                "eta_high_seconds": 90})
        'loss 1.500 · 100 tok/s · ETA 1m 10s (1m 00s-1m 30s)'
    """
    from peftstudio.units import short_duration as format_duration

    parts = []
    if "loss" in latest:
        parts.append(f"loss {latest['loss']:.3f}")
    if "val_loss" in latest:
        parts.append(f"val {latest['val_loss']:.3f}")
    if "tokens_per_second" in latest:
        parts.append(f"{latest['tokens_per_second']:.0f} tok/s")
    if "eta_seconds" in latest:
        parts.append(f"ETA {format_duration(latest['eta_seconds'])} ({format_duration(latest.get('eta_low_seconds'))}"
                     f"-{format_duration(latest.get('eta_high_seconds'))})")
    return " · ".join(parts) or "starting…"


def follow(run_id: str, *, as_json: bool = False, poll: float = 0.5, notifier: Any = None) -> int:
    """Show the run's progress until its worker exits; Ctrl-C pauses it. Exit code 2 if it failed.

    `notifier` (a `peftstudio.notify.RunNotifier`, or None for none) hears the milestones, the completion
    and the error, as the app's does.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from peftstudio.engine.runs import ACTIVE, is_worker_alive, pause_run, run_status
    from peftstudio.store import open_store

    store = open_store()
    latest: dict[str, float] = {}
    after = 0
    last_line = time.monotonic()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[info]}"))
    try:
        with Progress(*columns, disable=as_json or not sys.stdout.isatty(), transient=False) as bar:
            task = bar.add_task(run_id, total=None, info="starting…")
            first = True
            checking = ""
            while True:
                run = run_status(run_id, store)
                after = _latest(store, run_id, after, latest)
                total = run.summary.get("total_steps")
                if notifier is not None and total:
                    fraction = min(1.0, latest.get("step", 0) / total)
                    if first:  # a resumed run: the milestones already passed were announced before
                        notifier.skip_to(fraction)
                    notifier.progress(fraction)
                    first = False
                if not checking and total and latest.get("step", 0) >= total:  # training done: the checks' news
                    checking = _checking(store, run_id)
                    if checking and not as_json and bar.disable:
                        print(checking, flush=True)
                bar.update(task, total=total, completed=latest.get("step", 0), info=checking or progress_text(latest))
                if not as_json and bar.disable and time.monotonic() - last_line >= 15 and latest and not checking:
                    # no terminal (a log, CI): a plain progress line now and then instead of the bar
                    last_line = time.monotonic()
                    print(f"step {latest.get('step', 0):.0f}/{total or '?'} · {progress_text(latest)}", flush=True)
                if not (run.status in ACTIVE and is_worker_alive(run.pid)):
                    run = run_status(run_id, store)
                    if run.status not in ACTIVE:
                        break
                time.sleep(poll)
    except KeyboardInterrupt:
        print("Pausing after the current micro-batch…", file=sys.stderr)
        run = pause_run(run_id, store, wait=True, timeout=60)
    if notifier is not None:
        _notify_end(notifier, run)
    return report(run, as_json=as_json)


def _checking(store: Any, run_id: str) -> str:
    """What the run said as its checks after training started (what they ask, about how long), or ''."""
    said = store.events(run_id, kind="checking")
    return str(said[-1]["message"]) if said else ""


def _notify_end(notifier: Any, run: Any) -> None:
    """The completion or the error, as a desktop notification (a pause tells nothing)."""
    from peftstudio.errors import ErrorInfo
    from peftstudio.notify import CompletionSummary
    from peftstudio.records.convert import from_dict

    s = run.summary
    if run.status == "completed":
        notifier.completed(CompletionSummary(run_name=run.name or run.id, steps=s.get("steps"),
                                             elapsed_seconds=run.elapsed_seconds, final_loss=s.get("final_loss"),
                                             best_val_loss=s.get("best_val_loss"), saved_to=s.get("adapter_path")))
    elif run.status == "failed" and run.error:
        notifier.failed(from_dict(ErrorInfo, run.error))
    notifier.close()


def desktop_notifier(run_id: str, enabled: bool = True) -> Any:
    """The run's desktop notifier for a terminal that follows it; None when switched off."""
    if not enabled:
        return None
    from peftstudio.notify import RunNotifier
    from peftstudio.store import open_store

    run = open_store().get_run(run_id)
    return RunNotifier(run_name=run.name or run.id)


def report(run: Any, *, as_json: bool = False) -> int:
    """Print how the run ended; 2 when it failed (with the plain error, never a traceback)."""
    from peftstudio.errors import ErrorInfo, PlainError
    from peftstudio.records.convert import from_dict

    if as_json:
        print_json({"id": run.id, "status": run.status, "summary": run.summary, "error": run.error})
    elif run.status == "completed":
        s = run.summary
        print(f"Finished {run.id}: {s.get('steps')} steps, loss {s.get('final_loss') or 0:.3f}"
              + (f", validation loss {s['final_val_loss']:.3f}" if s.get("final_val_loss") is not None else ""))
        if s.get("adapter_path"):
            print(f"Adapter saved in {s['adapter_path']}")
    elif run.status == "paused":
        print(f"Paused {run.id}. Resume with: peftstudio resume {run.id}")
    elif run.status == "failed" and run.error:
        print(PlainError(from_dict(ErrorInfo, run.error)).render(), file=sys.stderr)
    else:
        print(f"{run.id} is {run.status}.")
    return 2 if run.status == "failed" else 0
