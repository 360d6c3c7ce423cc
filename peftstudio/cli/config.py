"""`peftstudio config validate FILE`: check a run configuration file before anything runs.
`peftstudio config settings`: every setting of the settings schema (``--json``: as a form reads it)."""

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
    settings = sub.add_parser("settings", help="list every setting: key, allowed values, default, meaning")
    settings.add_argument("--json", action="store_true", help="print the settings schema as JSON")
    settings.set_defaults(func=_settings)


def _settings(args: argparse.Namespace) -> int:
    from peftstudio.settings import settings_schema, settings_table

    if args.json:
        print_json(settings_schema())
    else:
        print(settings_table(), end="")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from peftstudio.records import RunConfig, convert

    cfg = convert.load(RunConfig, args.file)
    if args.json:
        print_json({"valid": True, "config": convert.to_document(cfg)})
    else:
        print(f"{args.file} is a valid run configuration (profile {cfg.profile}, model {cfg.model.reference}).")
    return 0
