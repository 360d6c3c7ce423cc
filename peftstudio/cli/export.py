"""`peftstudio export RUN --to hf|gguf|ollama|lmstudio --out DIR [--quant Q] [--test] [--json]`;
`peftstudio setup-export` installs llama.cpp's converter."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from peftstudio.cli.output import print_json
from peftstudio.export.records import GGUF_QUANTS, QUANTS
from peftstudio.units import human_bytes


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("export", help="export a tuned model (or a base model) and test the export")
    parser.add_argument("run", help="a run id, a model version (e.g. v2), or with --base a model reference")
    parser.add_argument("--to", dest="kind", required=True, choices=("hf", "gguf", "ollama", "lmstudio"),
                        help="hf: a Hugging Face folder; gguf: one file for llama.cpp; ollama / lmstudio: ready "
                             "to import there")
    parser.add_argument("--out", required=True, help="the folder to write")
    parser.add_argument("--quant", choices=GGUF_QUANTS, help="GGUF quantization type (default q4_k_m): "
                        + "; ".join(f"{q.name}: {q.tradeoff}" for q in QUANTS.values()).replace("%", "%%"))
    parser.add_argument("--adapter-only", action="store_true",
                        help="the LoRA adapter alone, not merged weights (hf: PEFT files; gguf and ollama: a GGUF "
                             "adapter, the Modelfile saying FROM the base and ADAPTER the file)")
    parser.add_argument("--ollama-base", help="ollama --adapter-only: the base model's name in Ollama for FROM "
                                              "(then only the adapter is written)")
    parser.add_argument("--name", help="the exported model's name")
    parser.add_argument("--base", action="store_true", help="RUN is a model reference: export it without an adapter")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing export folder")
    parser.add_argument("--test", action="store_true", help="run Test Export: load it with independent loaders")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)
    setup = subparsers.add_parser("setup-export", help="install llama.cpp's converter (for GGUF, Ollama and LM "
                                                       "Studio exports) into the user cache folder")
    setup.set_defaults(func=run_setup)


def run_setup(args: argparse.Namespace) -> int:
    from peftstudio.export.converter import install

    print(f"llama.cpp's converter is in {install(quiet=False)}")
    return 0


def run(args: argparse.Namespace) -> int:
    from peftstudio.export import ExportSource, export
    from peftstudio.records import convert

    if args.base:
        source = ExportSource(args.run, None, name=args.name)
    else:
        from peftstudio.playground import resolve_tuned

        tuned = resolve_tuned(args.run)
        source = ExportSource(tuned.base_reference, str(tuned.adapter_dir), name=args.name)

    last = {"stage": ""}

    def progress(p: object) -> None:  # one line per stage, not per tensor
        stage = getattr(p, "stage", "")
        if not args.json and stage != last["stage"]:
            last["stage"] = stage
            print(f"  {getattr(p, 'message', '') or stage}", file=sys.stderr)

    options: dict[str, Any] = ({"quant": args.quant} if args.kind != "hf" else {"merged": not args.adapter_only})
    if args.kind in ("gguf", "ollama") and args.adapter_only:
        options["adapter_only"] = True
    if args.ollama_base:
        options["base"] = args.ollama_base
    result = export(args.kind, source, args.out, test=args.test, overwrite=args.overwrite, progress=progress,
                    **options)
    if args.json:
        print_json(convert.to_dict(result))
    else:
        print(f"Exported to {result.path} ({human_bytes(result.size_bytes)}):")
        for name in result.files:
            print(f"  {name}")
        print("\n" + result.instructions)
        for note in result.notes:
            print(f"\nNote: {note}")
        if result.test is not None:
            verdict = "passed" if result.test.passed else "FAILED"
            print(f"\nTest Export {verdict}: {result.test.message}")
            if result.test.sample:
                print(f"Sample answer: {result.test.sample}")
    return 0 if result.test is None or result.test.passed else 1
