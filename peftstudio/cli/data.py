"""`peftstudio data check|preview|fix`: look at a training data file, see it as the model will, clean it."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("data", help="check, preview and fix training data files")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="say what a data file holds and what is wrong with it")
    _common(check)
    check.add_argument("--profile", help="the training profile (sets how many examples are enough)")
    check.add_argument("--max-tokens", type=int, help="the planned context length in tokens")
    check.add_argument("--validation", help="a validation file to look for overlapping examples")
    check.set_defaults(func=_check)

    prev = sub.add_parser("preview", help="show examples exactly as the model will see them")
    _common(prev)
    prev.add_argument("-n", type=int, default=3, help="how many examples to show (default 3)")
    prev.set_defaults(func=_preview)

    fix = sub.add_parser("fix", help="write a cleaned copy of a data file (the original is not changed)")
    _common(fix)
    fix.add_argument("--apply", required=True, metavar="FIX[,FIX]",
                     help="fix ids or finding codes, comma-separated (e.g. drop_malformed,exact_duplicate)")
    fix.add_argument("--out", required=True, help="path of the cleaned file (.jsonl, .json, .csv, .tsv, ...)")
    fix.add_argument("--profile", help="the training profile (sets the planned context length)")
    fix.add_argument("--max-tokens", type=int, help="the planned context length in tokens")
    fix.add_argument("--validation", help="the validation file (for drop_validation_overlap)")
    fix.set_defaults(func=_fix)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the data file")
    parser.add_argument("--model", help="count tokens with this model's tokenizer (e.g. builtin:tiny-llama)")
    parser.add_argument("--map", metavar="ROLE=COLUMN[,...]",
                        help="which column plays which role, e.g. prompt=Frage,completion=Antwort")
    parser.add_argument("--structure", help="the structure to assume (chat, alpaca, prompt_completion, ...)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    from peftstudio.errors import make

    out: dict[str, str] = {}
    for part in text.split(","):
        role, sep, column = part.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise make("config_invalid", problems=f"--map: expected ROLE=COLUMN, got {part!r}")
        out[role.strip()] = column.strip()
    return out


def _tokenizer(args: argparse.Namespace) -> Any:
    if not args.model:
        return None
    from peftstudio.models import load_tokenizer

    return load_tokenizer(args.model)


def _check(args: argparse.Namespace) -> int:
    from peftstudio.cli.output import print_json
    from peftstudio.data import check_file
    from peftstudio.records.convert import to_dict

    tokenizer = _tokenizer(args)
    with progress_bar(args.file) as progress:
        report = check_file(args.file, profile=args.profile, tokenizer=tokenizer, max_tokens=args.max_tokens,
                            mapping=_mapping(args.map), structure=args.structure, validation_path=args.validation,
                            progress=progress)
    if args.json:
        print_json(to_dict(report))
        return 0 if report.ok else 1
    cols = ", ".join(f"{role}={col}" for role, col in report.structure.columns.items())
    print(f"{report.path}: {report.format.upper()}, {report.encoding}, {report.rows} rows")
    print(f"Structure: {report.structure.name}" + (f" ({cols})" if cols else "")
          + f", confidence {report.structure.confidence:.0%}")
    s = report.stats
    if s.usable_rows:
        about = "about " if s.tokens_estimated else ""
        print(f"Tokens per example: {about}{s.tokens_min} to {s.tokens_max} (median {s.tokens_median}, "
              f"95% under {s.tokens_p95})")
    if not report.findings:
        print("No problems found.")
    for f in report.findings:
        print(f"\n[{f.severity}] {f.message}")
        if f.rows:
            more = f" and {f.count - len(f.rows)} more" if f.count > len(f.rows) else ""
            print(f"  rows: {', '.join(map(str, f.rows))}{more}")
        print(f"  fix: {f.fix}" + (f" (automatic: {f.fix_id})" if f.fix_id else ""))
    if report.fix_ids:
        print(f"\nTo apply the automatic fixes: peftstudio data fix {args.file} --apply "
              f"{','.join(report.fix_ids)} --out CLEANED.jsonl")
    return 0 if report.ok else 1


@contextmanager
def progress_bar(path: str, console: Any = None) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar for checking `path` (on stderr, when it is a terminal), as a `progress` callback.

    The bar is gone once the check ends, so the report follows on a clean screen.
    """
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    console = console or Console(stderr=True)
    columns = (TextColumn("Checking {task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(Path(path).name, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _preview(args: argparse.Namespace) -> int:
    from peftstudio.cli.output import print_json
    from peftstudio.data import preview
    from peftstudio.records.convert import to_dict

    result = preview(args.file, _tokenizer(args), n=args.n, mapping=_mapping(args.map), structure=args.structure)
    if args.json:
        print_json(to_dict(result))
        return 0
    print(f"Structure: {result.structure.name}. Trained parts are between [[ and ]]; the rest is masked.")
    for ex in result.examples:
        print(f"\n--- row {ex.row}: {ex.tokens} tokens, {ex.trained_tokens} trained ---")
        print(ex.marked())
    s = result.stats
    about = "about " if s.tokens_estimated else ""
    print(f"\nTokens per example: {about}min {s.tokens_min}, median {s.tokens_median}, 95% under "
          f"{s.tokens_p95}, max {s.tokens_max}")
    peak = max((b.count for b in s.histogram), default=0) or 1
    for b in s.histogram:
        print(f"  {b.start:>6}-{b.end - 1:<6} {'#' * max(1 if b.count else 0, round(30 * b.count / peak))} {b.count}")
    return 0


def _fix(args: argparse.Namespace) -> int:
    from peftstudio.cli.output import print_json
    from peftstudio.data import apply_fixes
    from peftstudio.records.convert import to_dict

    result = apply_fixes(args.file, args.apply.split(","), args.out, mapping=_mapping(args.map),
                         structure=args.structure, tokenizer=_tokenizer(args), max_tokens=args.max_tokens,
                         validation_path=args.validation, profile=args.profile)
    if args.json:
        print_json(to_dict(result))
        return 0
    print(f"Wrote {result.rows_out} of {result.rows_in} rows to {result.out_path} (report: {result.report_path}).")
    for fix_id, n in {**result.dropped, **result.changed}.items():
        print(f"  {fix_id}: {n} rows")
    print(f"The original file {args.file} was not changed.")
    return 0
