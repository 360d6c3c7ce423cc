"""`peftstudio models list|prepare`: the built-in models and getting a model ready offline."""

from __future__ import annotations

import argparse

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("models", help="built-in models; prepare a model for offline use")
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="list the built-in models")
    lst.add_argument("--json", action="store_true", help="print as JSON")
    lst.set_defaults(func=_list)
    prep = sub.add_parser("prepare", help="build, convert or download a model into a local folder")
    prep.add_argument("reference", help="builtin:NAME, a folder, a .gguf file or a hub id")
    prep.add_argument("--json", action="store_true", help="print as JSON")
    prep.set_defaults(func=_prepare)


def _list(args: argparse.Namespace) -> int:
    from peftstudio.models import BUILTIN_MODELS

    if args.json:
        print_json([{"reference": f"builtin:{k}", "description": v} for k, v in BUILTIN_MODELS.items()])
    else:
        for name, text in BUILTIN_MODELS.items():
            print(f"builtin:{name}\n    {text}")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from peftstudio.models import model_folder

    folder = model_folder(args.reference)
    if args.json:
        print_json({"reference": args.reference, "folder": str(folder)})
    else:
        print(f"{args.reference} is ready in {folder}")
    return 0
