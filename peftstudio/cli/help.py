"""`peftstudio help [TOPIC]`: the user guide, offline, in the terminal."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "help", help="read a page of the user guide offline (a topic, a page#section or an error code)")
    parser.add_argument("topic", nargs="?", default="list",
                        help="a topic such as export, errors#disk-full or disk_full (default: list the topics)")
    parser.add_argument("--path", action="store_true", help="print where the page is instead of its text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peftstudio import help as guide

    if args.topic == "list":
        print("Help topics (peftstudio help TOPIC):")
        for name in guide.topics():
            print(f"  {name}")
        return 0
    if args.path:
        print(guide.page_path(args.topic))
        return 0
    print(guide.read_page(args.topic), end="")
    return 0
