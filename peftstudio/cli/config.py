"""`peftstudio config validate FILE`: check a run configuration file before anything runs."""

from __future__ import annotations

import argparse

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("config", help="check run configuration files")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    validate = sub.add_parser("validate", help="check a run configuration JSON file")
    validate.add_argument("file", help="path of the JSON file")
    validate.add_argument("--json", action="store_true", help="print the result as JSON")
    validate.set_defaults(func=_validate)


def _validate(args: argparse.Namespace) -> int:
    from peftstudio.records import RunConfig, convert

    cfg = convert.load(RunConfig, args.file)
    if args.json:
        print_json({"valid": True, "config": convert.to_document(cfg)})
    else:
        print(f"{args.file} is a valid run configuration (profile {cfg.profile}, model {cfg.model.reference}).")
    return 0
