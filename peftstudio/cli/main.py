"""Entry point of the `peftstudio` command.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; the module adds its parser(s) and sets ``func`` to a
function taking the parsed arguments and returning an exit code. Errors are
printed as plain sentences with what to do (exit code 2); ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Command-group modules, in the order `--help` lists them. Add a line to add a group.
COMMAND_MODULES: tuple[str, ...] = (
    "peftstudio.cli.hardware",
    "peftstudio.cli.models",
    "peftstudio.cli.plan",
    "peftstudio.cli.config",
    "peftstudio.cli.data",
    "peftstudio.cli.train",
    "peftstudio.cli.runs",
    "peftstudio.cli.chat",
    "peftstudio.cli.export",
    "peftstudio.cli.demo",
    "peftstudio.cli.presets",
    "peftstudio.cli.versions",
    "peftstudio.cli.notify",
    "peftstudio.cli.fix",
    "peftstudio.cli.help",
    "peftstudio.cli.serve",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peftstudio",
        description="PEFT Studio: safe, obvious LoRA fine-tuning of language models.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks instead of plain messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    debug = args.debug or os.environ.get("PEFTSTUDIO_DEBUG") == "1"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `peftstudio profiles | head`: the reader left, nothing is wrong
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown quiet
        except OSError:
            pass
        return 0
    except SystemExit:
        raise
    except BaseException as exc:  # every failure becomes a plain message
        if debug:
            raise
        from peftstudio.errors import as_plain

        plain = as_plain(exc)
        if getattr(args, "json", False):
            from peftstudio.cli.output import print_json
            from peftstudio.records.convert import to_dict

            print_json({"error": to_dict(plain.info)}, file=sys.stderr)
        else:
            print(plain.render(), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
