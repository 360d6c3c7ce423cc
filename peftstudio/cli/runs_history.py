"""`peftstudio runs compare RUN RUN ...` and `peftstudio runs clone RUN`: hooked into the `runs` group.

The `runs` group itself lives in `peftstudio.cli.runs`; it calls `add_compare_and_clone(sub)` with its
sub-parsers.
"""

from __future__ import annotations

import argparse

from peftstudio.cli.output import print_json


def add_compare_and_clone(runs_subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``compare``, ``table`` and ``clone`` actions to the ``runs`` command group."""
    from peftstudio.history.compare import COLUMNS

    cmp = runs_subparsers.add_parser("compare", help="compare 2-5 runs: metrics, best run, setting differences")
    cmp.add_argument("runs", nargs="+", metavar="RUN", help="run ids (a unique beginning is enough)")
    cmp.add_argument("--json", action="store_true", help="print the comparison (with chart data) as JSON")
    cmp.set_defaults(func=_compare)

    table = runs_subparsers.add_parser("table", help="all completed runs, sortable by any column")
    table.add_argument("--sort", default="date", choices=list(COLUMNS), help="column to sort by (default: date)")
    order = table.add_mutually_exclusive_group()
    order.add_argument("--ascending", action="store_true", help="smallest first")
    order.add_argument("--descending", action="store_true", help="largest first")
    table.add_argument("--json", action="store_true", help="print as JSON")
    table.set_defaults(func=_table)

    clone = runs_subparsers.add_parser("clone", help="copy a run's configuration into a new configuration file")
    clone.add_argument("run")
    clone.add_argument("--name", help="name of the new configuration")
    clone.add_argument("--out", metavar="FILE", help="write it to this file (default: print it)")
    clone.add_argument("--json", action="store_true", help="print as JSON")
    clone.set_defaults(func=_clone)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _compare(args: argparse.Namespace) -> int:
    from peftstudio.history.compare import compare_runs, comparison_dict

    c = compare_runs(args.runs)
    if args.json:
        print_json(comparison_dict(c))
        return 0
    def mark(column: str, rid: str) -> str:
        return " *" if c.best.get(column) == rid else ""

    print(f"{'run':<28} {'final val':>10} {'best val':>10} {'score':>7} {'time s':>8} {'tok/s':>9}")
    for r in c.rows:
        print(f"{r.run_id:<28} {_fmt(r.final_val_loss):>10}{mark('final_val_loss', r.run_id)}"
              f" {_fmt(r.best_val_loss):>10}{mark('best_val_loss', r.run_id)}"
              f" {_fmt(r.quality_score, 2):>7} {_fmt(r.duration_seconds, 0):>8}"
              f" {_fmt(r.tokens_per_second, 0):>9}{mark('tokens_per_second', r.run_id)}")
    print("(* best)")
    for chart in c.charts:
        if chart.best_run_id:
            print(f"Best {chart.name}: {chart.best_run_id} ({chart.best_value[chart.best_run_id]:.4f})")
    print("Settings that differ:" if c.differences else "All settings are the same.")
    for d in c.differences:
        print(f"  {d.path}: " + " | ".join(repr(v) for v in d.values))
    return 0


def _table(args: argparse.Namespace) -> int:
    from peftstudio.history.compare import runs_table
    from peftstudio.records import convert

    descending = True if args.descending else False if args.ascending else None
    rows = runs_table(sort_by=args.sort, descending=descending)
    if args.json:
        print_json([convert.to_dict(r) for r in rows])
        return 0
    if not rows:
        print("No completed runs yet.")
    for r in rows:
        print(f"{r.run_id:<28} {r.name[:20]:<20} val {_fmt(r.final_val_loss)} best {_fmt(r.best_val_loss)}"
              f" score {_fmt(r.quality_score, 2)} {_fmt(r.duration_seconds, 0)} s {_fmt(r.tokens_per_second, 0)} tok/s"
              f" cost {_fmt(r.cost, 2)}")
    return 0


def _clone(args: argparse.Namespace) -> int:
    from peftstudio.history.compare import clone_run_config
    from peftstudio.records import convert

    cfg = clone_run_config(args.run, name=args.name)
    if args.out:
        convert.save(cfg, args.out)
    if args.json:
        print_json({"config": convert.to_document(cfg), "path": args.out})
    elif args.out:
        print(f"Wrote the configuration of {args.run} to {args.out}.")
    else:
        print(convert.dumps(cfg), end="")
    return 0
