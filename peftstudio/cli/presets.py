"""`peftstudio presets save|list|show|export|import|delete`: the presets library on the command line."""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("presets", help="save, share and reuse run configurations")
    sub = parser.add_subparsers(dest="presets_command", metavar="ACTION", required=True)

    save = sub.add_parser("save", help="save a run configuration as a named preset")
    save.add_argument("name", help="the preset's name")
    source = save.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="FILE", help="a run configuration JSON file")
    source.add_argument("--run", metavar="RUN", help="take the configuration of this run")
    save.add_argument("--tag", action="append", default=[], help="a free tag (repeat for several)")
    save.add_argument("--notes", default="", help="free notes")
    save.add_argument("--replace", action="store_true", help="replace a preset of the same name")
    save.add_argument("--json", action="store_true", help="print the preset as JSON")
    save.set_defaults(func=_save)

    ls = sub.add_parser("list", help="list presets, optionally searched and filtered")
    ls.add_argument("--search", help="text to look for in names, notes, tags, profile and model")
    ls.add_argument("--profile", help="only presets of this profile")
    ls.add_argument("--model", help="only presets of this model reference")
    ls.add_argument("--tag", help="only presets with this tag")
    ls.add_argument("--json", action="store_true", help="print the list as JSON")
    ls.set_defaults(func=_list)

    show = sub.add_parser("show", help="show one preset with all its settings")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print the preset as JSON")
    show.set_defaults(func=_show)

    export = sub.add_parser("export", help="write a preset to a JSON file to share")
    export.add_argument("name")
    export.add_argument("file", nargs="?", help="where to write it (default: NAME.preset.json here)")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    export.add_argument("--json", action="store_true", help="print the result as JSON")
    export.set_defaults(func=_export)

    imp = sub.add_parser("import", help="check a preset file and add it to the library")
    imp.add_argument("file")
    imp.add_argument("--name", help="store it under another name")
    imp.add_argument("--replace", action="store_true", help="replace a preset of the same name")
    fit = imp.add_mutually_exclusive_group()
    fit.add_argument("--gpu", metavar="NAME", help="adjust the settings for this GPU instead of this machine")
    fit.add_argument("--gpu-memory", metavar="GB", type=float, help="adjust for a GPU with this much memory")
    fit.add_argument("--cpu", action="store_true", help="adjust for training on the processor only")
    fit.add_argument("--no-adjust", action="store_true", help="keep the settings exactly as in the file")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.set_defaults(func=_import)

    delete = sub.add_parser("delete", help="remove a preset from the library")
    delete.add_argument("name")
    delete.add_argument("--json", action="store_true", help="print the result as JSON")
    delete.set_defaults(func=_delete)


def _preset_dict(preset: Any) -> dict[str, Any]:
    from peftstudio.records import convert

    return convert.to_document(preset)


def _save(args: argparse.Namespace) -> int:
    from peftstudio.history.presets import save_preset
    from peftstudio.records import RunConfig, convert

    if args.config:
        cfg = convert.load(RunConfig, args.config)
    else:
        from peftstudio.history.compare import clone_run_config

        cfg = clone_run_config(args.run)
    preset = save_preset(args.name, cfg, tags=args.tag, notes=args.notes, replace=args.replace)
    if args.json:
        print_json(_preset_dict(preset))
    else:
        print(f"Saved preset {preset.name!r} ({preset.profile}, {preset.model}).")
    return 0


def _list(args: argparse.Namespace) -> int:
    from peftstudio.history.presets import list_presets
    from peftstudio.records import convert

    entries = list_presets(search=args.search, profile=args.profile, model=args.model, tag=args.tag)
    if args.json:
        print_json([convert.to_dict(e) for e in entries])
        return 0
    if not entries:
        print("No presets." if not (args.search or args.profile or args.model or args.tag)
              else "No presets match.")
        return 0
    for e in entries:
        tags = f"  [{', '.join(e.tags)}]" if e.tags else ""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.updated_at))
        print(f"{e.name}  ({e.profile}, {e.model}, {when}){tags}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from peftstudio.history.presets import get_preset, preset_json

    preset = get_preset(args.name)
    if args.json:
        print_json(_preset_dict(preset))
    else:
        print(preset_json(preset), end="")
    return 0


def _export(args: argparse.Namespace) -> int:
    from peftstudio.history.presets import export_preset

    file = args.file or re.sub(r"[^A-Za-z0-9._-]+", "-", args.name).strip("-.") + ".preset.json"
    path, notes = export_preset(args.name, file, overwrite=args.force)
    if args.json:
        print_json({"path": str(path), "notes": notes})
    else:
        print(f"Wrote {path}.")
        for note in notes:
            print(f"Note: {note}")
    return 0


def _hardware(args: argparse.Namespace) -> Any:
    if args.no_adjust:
        return None
    from peftstudio.hardware import probe_hardware, simulated_hardware

    if args.gpu:
        return simulated_hardware(args.gpu)
    if args.gpu_memory:
        return simulated_hardware(gpu_memory_gb=args.gpu_memory)
    if args.cpu:
        return simulated_hardware()
    return probe_hardware()


def _import(args: argparse.Namespace) -> int:
    from peftstudio.history.presets import import_preset
    from peftstudio.records import convert

    result = import_preset(args.file, name=args.name, replace=args.replace, hardware=_hardware(args))
    if args.json:
        print_json({"preset": _preset_dict(result.preset), "replaced": result.replaced,
                    "adjustments": [convert.to_dict(a) for a in result.adjustments], "notes": list(result.notes)})
        return 0
    print(f"Imported preset {result.preset.name!r}" + (" (replacing the old one)." if result.replaced else "."))
    if result.adjustments:
        print("Adjusted for this machine:")
        for a in result.adjustments:
            print(f"  {a.setting}: {a.old} -> {a.new}. {a.reason}")
    for note in result.notes:
        print(f"Note: {note}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from peftstudio.history.presets import delete_preset

    delete_preset(args.name)
    if args.json:
        print_json({"deleted": args.name})
    else:
        print(f"Deleted preset {args.name!r}.")
    return 0
