"""`peftstudio chat RUN [--prompt TEXT] [--compare-base] [--json]`: talk to a tuned model.

Without `--prompt` it is interactive: type a prompt, get the answers, an empty line or Ctrl-D ends.
`peftstudio chat RUN --history [--json]` lists the saved exchanges.
"""

from __future__ import annotations

import argparse
import sys

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("chat", help="chat with a tuned model, next to its base model")
    parser.add_argument("run", help="a run id or a model version (e.g. v2)")
    parser.add_argument("--prompt", help="one prompt; without it, an interactive session")
    parser.add_argument("--compare-base", action="store_true", help="also answer with the base model")
    parser.add_argument("--temperature", type=float, help="0 = always the most likely word (default: profile's)")
    parser.add_argument("--top-p", type=float, default=0.9)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--history", action="store_true", help="list the saved exchanges of this run")
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peftstudio.playground import GenerationSettings, chat_history, open_playground, resolve_tuned
    from peftstudio.records import convert

    if args.history:
        tuned = resolve_tuned(args.run)
        items = chat_history(tuned.run_id)
        if args.json:
            print_json([convert.to_dict(e) for e in items])
        for e in [] if args.json else items:
            print(f"You:   {e.prompt}\nTuned: {e.tuned.text if e.tuned else ''}")
            if e.base:
                print(f"Base:  {e.base.text}")
            print()
        return 0
    session = open_playground(args.run)
    temperature = session.default_settings().temperature if args.temperature is None else args.temperature
    settings = GenerationSettings(temperature=temperature, top_p=args.top_p, max_new_tokens=args.max_tokens)
    current = {"which": ""}

    def show(which: str, text: str) -> None:
        if args.json:
            return
        if which != current["which"]:
            print(("\n" if current["which"] else "") + ("Tuned: " if which == "tuned" else "Base:  "), end="")
            current["which"] = which
        print(text, end="", flush=True)

    def ask(prompt: str) -> None:
        current["which"] = ""
        exchange = session.compare(prompt, settings, compare_base=args.compare_base, on_token=show)
        if args.json:
            print_json(convert.to_dict(exchange))
        else:
            print("\n")

    if args.prompt is not None:
        ask(args.prompt)
        return 0
    print("Type a prompt and press Enter (an empty line ends).", file=sys.stderr)
    for line in sys.stdin:
        if not line.strip():
            break
        ask(line.strip())
    return 0
