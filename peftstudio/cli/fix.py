"""`peftstudio fix RUN [--apply N|FIX]`: what can be done about a run's last error, and doing it."""

from __future__ import annotations

import argparse

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("fix", help="list the fixes for a run's last error; apply one and resume")
    parser.add_argument("run", help="run id (a unique beginning is enough)")
    parser.add_argument("--apply", metavar="N", help="apply action N of the list (or a fix id such as halve_batch) "
                                                     "and resume the run from its last checkpoint")
    parser.add_argument("--wait", action="store_true", help="with --apply: wait until the run stops again")
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.set_defaults(func=_fix)


def _fix(args: argparse.Namespace) -> int:
    from peftstudio.fixes import apply_fix, list_fixes
    from peftstudio.records.convert import to_dict

    if args.apply is None:
        fixes = list_fixes(args.run)
        if args.json:
            print_json({"run_id": fixes.run_id, "status": fixes.status,
                        "error": to_dict(fixes.error) if fixes.error else None,
                        "options": [{**to_dict(o), "automatic": o.automatic} for o in fixes.options]})
            return 0
        _show(fixes)
        return 0
    result = apply_fix(args.run, args.apply, wait=args.wait)
    if args.json:
        print_json(to_dict(result))
        return 0
    print(result.message)
    if args.wait:
        from peftstudio.engine.runs import run_status

        print(f"The run is now {run_status(result.run_id).status}.")
    else:
        print(f"Follow it with: peftstudio runs show {result.run_id}")
    return 0


def _show(fixes: object) -> None:
    from peftstudio.fixes import RunFixes

    assert isinstance(fixes, RunFixes)
    if fixes.error is None:
        print(f"Run {fixes.run_id} ({fixes.status}) has no error to fix.")
        if fixes.status in ("paused", "failed"):
            print(f"Resume it with: peftstudio fix {fixes.run_id} --apply resume")
        return
    print(f"Run {fixes.run_id} ({fixes.status}): {fixes.error.title}")
    print()
    print(fixes.error.explanation)
    print()
    for option in fixes.options:
        how = "applied by PEFT Studio" if option.automatic else "by hand"
        print(f"  {option.number}. {option.label}  [{how}]")
        for step in option.steps:
            print(f"       - {step}")
    automatic = [o.number for o in fixes.options if o.automatic]
    if automatic:
        print()
        print(f"Apply one with: peftstudio fix {fixes.run_id} --apply {automatic[0]}")
    print(f"Help: peftstudio help {fixes.error.help_url}")
