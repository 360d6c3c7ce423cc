"""`peftstudio versions list|show|activate|archive|restore|delete|compare`: a model's versions."""

from __future__ import annotations

import argparse
import time
from typing import Any

from peftstudio.cli.output import print_json
from peftstudio.units import human_bytes


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("versions", help="model versions: timeline, active one, archive, delete")
    sub = parser.add_subparsers(dest="versions_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="every version with its metrics, changes and size")
    ls.add_argument("--line", help="only this model line")
    ls.add_argument("--all", action="store_true", help="include deleted versions")
    ls.add_argument("--json", action="store_true", help="print as JSON")
    ls.set_defaults(func=_list)

    for name, help_text, func in (
        ("show", "one version in detail", _show),
        ("activate", "make a version the default for exports and the playground", _activate),
        ("archive", "compress a version into one file to save space", _archive),
        ("restore", "unpack an archived version", _restore),
        ("delete", "delete a version's files", _delete),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("version", help="version id (e.g. v2-3fa2c1), or v2 when only one line has a v2")
        p.add_argument("--json", action="store_true", help="print as JSON")
        p.set_defaults(func=func)

    cmp = sub.add_parser("compare", help="how one version differs from another")
    cmp.add_argument("a")
    cmp.add_argument("b")
    cmp.add_argument("--json", action="store_true", help="print as JSON")
    cmp.set_defaults(func=_compare)


def _line(v: Any, delta: dict[str, float] | None = None) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(v.created_at))
    flags = (" *active*" if v.active else "") + (f" ({v.state})" if v.state != "ready" else "")
    shown = {k: v.metrics[k] for k in ("val_loss", "best_val_loss", "train_loss") if k in v.metrics}
    metrics = ", ".join(
        f"{k} {val:.4f}" + (f" ({delta[k]:+.4f})" if delta and k in delta else "") for k, val in shown.items()
    )
    return f"  {v.label:<5} {v.id:<12} {when}  {human_bytes(v.size_bytes):>9}  {metrics}{flags}"


def _list(args: argparse.Namespace) -> int:
    from peftstudio.history.versions import lines, list_versions, timeline, version_dict

    if args.json:
        if args.all:
            print_json([version_dict(v) for v in list_versions(args.line, include_deleted=True)])
        else:
            chosen = [args.line] if args.line else lines()
            print_json([{**version_dict(e.version), "previous_id": e.previous_id, "deltas": e.deltas}
                        for line in chosen for e in timeline(line)])
        return 0
    chosen = [args.line] if args.line else lines()
    if not chosen:
        print("No model versions yet: each completed run becomes one.")
    for line in chosen:
        print(line)
        for entry in timeline(line):
            print(_line(entry.version, entry.deltas))
        if args.all:
            for v in list_versions(line, include_deleted=True):
                if v.state == "deleted":
                    print(_line(v))
    return 0


def _show(args: argparse.Namespace) -> int:
    from peftstudio.history.versions import get_version, version_config, version_dict
    from peftstudio.records import convert

    v = get_version(args.version)
    cfg = version_config(v.id)
    if args.json:
        print_json({**version_dict(v), "config": convert.to_document(cfg)})
        return 0
    print(f"{v.label} of {v.line} ({v.id}), {v.state}{', active' if v.active else ''}")
    print(f"  made from run {v.run_id} on {time.strftime('%Y-%m-%d %H:%M', time.localtime(v.created_at))}")
    print(f"  stored at {v.path} ({human_bytes(v.size_bytes)})")
    for k, val in sorted(v.metrics.items()):
        print(f"  {k}: {val:.6g}")
    return 0


def _done(args: argparse.Namespace, v: Any, verb: str) -> int:
    from peftstudio.history.versions import version_dict

    if args.json:
        print_json(version_dict(v))
    else:
        print(f"{verb} {v.label} of {v.line} ({human_bytes(v.size_bytes)} on disk).")
    return 0


def _activate(args: argparse.Namespace) -> int:
    from peftstudio.history.versions import set_active

    return _done(args, set_active(args.version), "Activated")


def _archive(args: argparse.Namespace) -> int:
    from peftstudio.history.archive import archive_version

    return _done(args, archive_version(args.version), "Archived")


def _restore(args: argparse.Namespace) -> int:
    from peftstudio.history.archive import restore_version

    return _done(args, restore_version(args.version), "Restored")


def _delete(args: argparse.Namespace) -> int:
    from peftstudio.history.archive import delete_version
    from peftstudio.history.versions import version_dict

    v = delete_version(args.version)
    if args.json:
        print_json({**version_dict(v), "state": "deleted", "freed_bytes": v.size_bytes})
    else:
        print(f"Deleted {v.label} of {v.line}; freed {human_bytes(v.size_bytes)}.")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from peftstudio.history.versions import compare_versions, version_dict
    from peftstudio.records import convert

    c = compare_versions(args.a, args.b)
    if args.json:
        print_json({"a": version_dict(c.a), "b": version_dict(c.b), "metric_deltas": c.metric_deltas,
                    "differences": [convert.to_dict(d) for d in c.differences]})
        return 0
    print(f"{c.b.label} against {c.a.label}:")
    for k, d in c.metric_deltas.items():
        print(f"  {k}: {c.a.metrics[k]:.4f} -> {c.b.metrics[k]:.4f} ({d:+.4f})")
    print("Settings that differ:" if c.differences else "Same settings.")
    for diff in c.differences:
        print(f"  {diff.path}: {diff.values[0]!r} -> {diff.values[1]!r}")
    return 0
