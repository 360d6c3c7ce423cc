"""`peftstudio demo`: the whole PEFT Studio flow, offline, on a built-in model (SmolLM2 unless `--model` names
another, e.g. ``builtin:gemma3-270m``)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("demo", help="run the whole flow offline on a built-in model")
    parser.add_argument("--model", default="builtin:smollm2-135m", help="model reference (default: %(default)s)")
    parser.add_argument("--out", default=None, help="folder for the demo's exports (default: ./demo-output)")
    parser.add_argument("--quick", action="store_true", help="a shorter run (for smoke tests)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peftstudio.cli.demo_flow import run_demo

    return run_demo(model=args.model, out=args.out, quick=args.quick)
