"""`peftstudio profiles` and `peftstudio plan`: task profiles and explained training plans."""

from __future__ import annotations

import argparse
from typing import Any

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    profiles = subparsers.add_parser("profiles", help="list the task profiles, with estimates for this machine")
    profiles.add_argument("--model", help="plan every profile for this model (default: a suggested one)")
    profiles.add_argument("--json", action="store_true", help="print the profiles as JSON")
    _where(profiles)
    profiles.set_defaults(func=run_profiles)

    plan = subparsers.add_parser(
        "plan", help="plan a fine-tuning run: settings with reasons, memory, time, cost and CO2",
        description="Plan a LoRA fine-tuning run for this computer (or a GPU you name) and explain every setting.",
    )
    plan.add_argument("--profile", required=True, help="task profile id (see: peftstudio profiles)")
    plan.add_argument("--model", help="model: catalog name, hub id, builtin:NAME or a folder (default: the "
                                      "profile's best model for this machine, with the reason)")
    plan.add_argument("--data", metavar="FILE", help="training data file, to fit the plan to its examples")
    _where(plan)
    plan.add_argument("--electricity-rate", type=float, metavar="X", help="price of a kWh (default 0.15)")
    plan.add_argument("--currency", default="USD", help="currency of the rate, free text (default USD)")
    plan.add_argument("--grid-intensity", type=float, metavar="KG",
                      help="kg of CO2 per kWh of your electricity (default 0.48, the world average)")
    plan.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override a setting, e.g. --set micro_batch_size=2 (repeatable; the settings: "
                           "peftstudio config settings)")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(func=run_plan)


def _where(parser: argparse.ArgumentParser) -> None:
    """The machine to plan for: this one (default), a GPU you name, or the processor."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--gpu-memory", type=float, metavar="GB", help="plan for a GPU with this much memory")
    where.add_argument("--gpu", metavar="NAME", help="plan for a known GPU, e.g. 'RTX 3060' or 'H100'")
    where.add_argument("--cpu", action="store_true", help="plan for training on the processor")


def _hardware(args: argparse.Namespace) -> Any:
    import attrs

    from peftstudio.hardware import find_gpu, generic_gpu, probe_hardware

    hw = probe_hardware(use_torch=False)
    if getattr(args, "cpu", False):
        return attrs.evolve(hw, gpus=())
    if getattr(args, "gpu", None):
        try:
            gpu = find_gpu(args.gpu).as_gpu()
        except KeyError as exc:
            from peftstudio.errors import make

            raise make("config_invalid", problems=f"--gpu: {exc.args[0]}") from None
        return attrs.evolve(hw, gpus=(gpu,))
    if getattr(args, "gpu_memory", None):
        return attrs.evolve(hw, gpus=(generic_gpu(args.gpu_memory),))
    return hw


def say_pick(pick: Any) -> None:
    """Tell which model the profile picked and why (on stderr, so ``--json`` output stays data)."""
    import sys

    print(f"Model: {pick.reference} (no --model given). {pick.reason}", file=sys.stderr)


def run_plan(args: argparse.Namespace) -> int:
    from peftstudio.data import planning_stats
    from peftstudio.data.planning import pick_model_for
    from peftstudio.history.speed import measured_speed
    from peftstudio.planner import plan, summary_lines

    hw = _hardware(args)
    measured = measured_speed(hw)
    if args.model:
        model = args.model
        stats = planning_stats(args.data, args.model) if args.data else None
    else:
        pick, stats = pick_model_for(hw, args.profile, args.data, args.overrides, measured=measured)
        model = pick.reference
        say_pick(pick)
    result = plan(hw, model, args.profile, stats=stats, overrides=args.overrides,
                  electricity_rate=args.electricity_rate, currency=args.currency,
                  grid_intensity=args.grid_intensity, data_path=args.data, measured=measured)
    if args.json:
        print_json(result.as_dict())
    else:
        print("\n".join(summary_lines(result)))
    return 0


def run_profiles(args: argparse.Namespace) -> int:
    from peftstudio.history.speed import measured_speed
    from peftstudio.planner import PROFILES, pick_model, plan
    from peftstudio.planner.estimates import Range, human_range
    from peftstudio.records.convert import to_dict
    from peftstudio.units import human_bytes

    hw = _hardware(args)
    measured = measured_speed(hw)
    rows = []
    for profile in PROFILES:
        if args.model:
            model, reason, p = args.model, "the model you named", plan(hw, args.model, profile.id, measured=measured)
        else:
            pick = pick_model(hw, profile.id, measured=measured)
            model, reason, p = pick.reference, pick.reason, pick.plan
        rows.append({
            **to_dict(profile),
            "estimate": {
                "model": model, "model_reason": reason, "device": p.device_name,
                "duration_seconds": to_dict(p.estimates.duration_seconds),
                "estimated_peak_bytes": p.memory.estimated_peak_bytes,
                "available_bytes": p.memory.available_bytes, "fits": p.memory.fits,
                "assumed_examples": p.stats.rows if p.stats_assumed else None,
            },
        })
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        est = row["estimate"]
        print(f"{row['id']:<22} {row['title']}")
        print(f"{'':<22} {row['description']}")
        print(f"{'':<22} e.g. {'; '.join(row['examples'])}")
        print(f"{'':<22} {est['model']} on {est['device']}: "
              f"{human_range(Range(**est['duration_seconds']))}"
              f" for {est['assumed_examples'] or 'your'} examples")
        print(f"{'':<22} why this model: {est['model_reason']}")
        print(f"{'':<22} memory: about {human_bytes(est['estimated_peak_bytes'])} of "
              f"{human_bytes(est['available_bytes'])} — {'fits' if est['fits'] else 'does not fit'}")
        print()
    return 0
