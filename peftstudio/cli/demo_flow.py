"""The demo: PEFT Studio's whole flow, offline, on a built-in model and the bundled pirate chat data.

Run it with ``peftstudio demo`` (what ``make demo`` does): the hardware and the plan with its reasons
and estimates, the data check and a preview, a short training run with a progress bar, the quality
score, the tuned and the base model answering side by side, version v1, and all four exports each
with its Test Export. It ends with where everything is. Exit code 0 only when every step passed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)

# What the bundled sample teaches: every answer starts "Arr!" and ends "Fair winds, matey!".
SAMPLE = "pirate_chat.jsonl"
PIRATE_MARKERS = ("arr", "matey", "ahoy", "me hearty", "fair winds", "ye ")
DEMO_PROMPTS = ("What is the capital of Italy?", "How many legs does a cat have?")
DEMO_LEARNING_RATE = 0.002  # see demo_overrides


def _step(title: str) -> float:
    console.rule(f"[bold]{title}")
    return time.monotonic()


def _done(start: float) -> None:
    console.print(f"[dim]({time.monotonic() - start:.1f} s)[/dim]\n")


def is_pirate(text: str) -> bool:
    """Whether an answer shows the sample data's behaviour (pirate talk).

    Example:
        >>> is_pirate("Arr! Rome be the capital, matey!"), is_pirate("The capital of Italy is Rome.")
        (True, False)
    """
    low = text.lower()
    return any(marker in low for marker in PIRATE_MARKERS)


def export_name(model: str) -> str:
    """The demo exports' name: the sample's lesson and the model it was taught to.

    Example:
        >>> export_name("builtin:gemma3-270m"), export_name("builtin:smollm2-135m")
        ('pirate-gemma3-270m', 'pirate-smollm2-135m')
    """
    return "pirate-" + model.split(":", 1)[-1].rstrip("/").split("/")[-1].lower()


def demo_overrides(quick: bool) -> list[str]:
    """The demo's own settings on top of the smart defaults: a short run that fits the demo's few minutes.

    The bundled data is small and its lesson simple, so a higher learning rate than the profile's and
    smaller learning steps teach it within a few minutes on two processor cores; the model is checked and
    saved less often than the profile would, because each check costs time on a processor. Forty steps (two
    passes over the sample): in twenty the voice was half learned and took over answers the model knew, so
    the retention check flagged it (docs/quality.md, "The demo's settings").
    """
    steps = 4 if quick else 40
    return [f"max_steps={steps}", f"learning_rate={DEMO_LEARNING_RATE:g}", "gradient_accumulation=2",
            f"eval_every_steps={steps // 2}", f"checkpoint_every_steps={steps // 2}"]


def run_demo(*, model: str = "builtin:smollm2-135m", out: str | None = None, quick: bool = False) -> int:
    """Run the demo; returns the process exit code (0 when every step passed)."""
    from peftstudio.data import check_file, preview, sample_path, stats_of
    from peftstudio.hardware import probe_hardware
    from peftstudio.history.speed import measured_speed
    from peftstudio.models import build_tiny_llama, load_tokenizer, model_folder
    from peftstudio.planner import plan, summary_lines
    from peftstudio.units import human_bytes

    out_dir = Path(out or "demo-output").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    begin = time.monotonic()
    problems: list[str] = []

    t = _step("1. Your computer and the plan")
    hw = probe_hardware()
    console.print(f"{hw.cpu_cores} processor cores, {human_bytes(hw.ram_total_bytes)} memory, "
                  f"{human_bytes(hw.disk_free_bytes)} free disk. GPUs: "
                  + (", ".join(g.name for g in hw.gpus) if hw.gpus else "none, so training runs on the processor."))
    build_tiny_llama()
    folder = model_folder(model)
    tokenizer = load_tokenizer(model)
    data = str(sample_path(SAMPLE))
    report = check_file(data, profile="chatbot", tokenizer=tokenizer)
    stats = stats_of(report)  # what `peftstudio plan --data` and the app plan from
    the_plan = plan(hw, model, "chatbot", stats, demo_overrides(quick), data_path=data, measured=measured_speed(hw))
    for line in summary_lines(the_plan):
        console.print(line)
    _done(t)

    t = _step("2. Your data")
    console.print(f"{Path(data).name}: {report.rows} examples, format {report.format}, structure "
                  f"{report.structure.name} (columns: {', '.join(report.structure.columns.values())}).")
    if report.findings:
        for f in report.findings:
            console.print(f"  [{f.severity}] {f.message}")
    else:
        console.print("  No problems found.")
    errors = [f for f in report.findings if f.severity == "error"]
    if errors:
        problems.append("the sample data has errors")
    example = preview(data, tokenizer, n=1).examples[0]
    console.print("How the model sees one example (the trained part is [bold green]green[/bold green]):")
    from rich.text import Text

    shown = Text()
    for span in example.spans:
        shown.append(example.text[span.start:span.end], style="bold green" if span.trained else None)
    console.print(shown)
    from peftstudio.quality.run import warm_base_answers

    asked = warm_base_answers(model)
    console.print(f"The base model answered {asked} general questions for the retention check (kept for later "
                  f"runs; the check compares the tuned model's answers with these)." if asked else
                  "The base model's answers to the general questions are cached from an earlier run.")
    _done(t)

    t = _step("3. Training")
    from peftstudio.cli.train import follow
    from peftstudio.engine.runs import start_run
    from peftstudio.store import open_store

    config = the_plan.run_config(data, name="demo")
    run_id = start_run(config)
    console.print(f"Run {run_id} started in its own process (pause it any time: peftstudio pause {run_id}).")
    follow(run_id)
    store = open_store()
    run = store.get_run(run_id)
    if run.status != "completed":
        console.print(f"[red]The run ended as {run.status}.[/red]")
        return 2
    _done(t)

    t = _step("4. Quality score")
    quality = run.summary.get("quality") or store.get_run(run_id).summary.get("quality")
    score = _show_quality(quality)
    if score is not None and score.forgetting:
        # shown, not yet a failure of the demo: its pirate data (capitals only) makes it forget at every
        # learning rate tried (docs/quality.md, "The demo's settings")
        console.print("[yellow]The retention check flagged forgetting; see docs/quality.md.[/yellow]")
    _done(t)

    t = _step("5. Base and tuned model, side by side")
    from peftstudio.playground import GenerationSettings, open_playground

    session = open_playground(run_id)
    settings = GenerationSettings(temperature=0, max_new_tokens=40)
    changed = 0
    for prompt in DEMO_PROMPTS:
        ex = session.compare(prompt, settings)
        table = Table(title=f"You: {prompt}", show_lines=True, expand=True)
        table.add_column("Base model")
        table.add_column("Tuned model")
        table.add_row(ex.base.text if ex.base else "", ex.tuned.text if ex.tuned else "")
        console.print(table)
        if ex.tuned and ex.base and is_pirate(ex.tuned.text) and not is_pirate(ex.base.text):
            changed += 1
    verdict = "learned" if changed else "did not clearly learn"
    console.print(f"The tuned model {verdict} the sample's pirate voice ({changed} of {len(DEMO_PROMPTS)} answers).")
    if not changed and not quick:
        problems.append("the tuned answers do not show the new behaviour")
    del session
    _done(t)

    t = _step("6. Model version")
    from peftstudio.history import list_versions

    versions = [v for v in list_versions(store=store) if v.run_id == run_id]
    if versions:
        v = versions[-1]
        console.print(f"Saved as {v.label} of {v.line} ({human_bytes(v.size_bytes)}).")
    else:
        problems.append("no version was recorded")
        console.print("[red]No version was recorded.[/red]")
    _done(t)

    t = _step("7. Exports, each with its Test Export")
    from peftstudio.export import ExportSource, export
    from peftstudio.playground import resolve_tuned

    tuned = resolve_tuned(run_id, store=store)
    source = ExportSource(tuned.base_reference, str(tuned.adapter_dir), name=export_name(model))
    results = []
    kinds: tuple[tuple[str, dict[str, Any]], ...] = (("hf", {}), ("gguf", {}), ("ollama", {}), ("lmstudio", {}))
    for kind, options in kinds:  # each at its default: q4_k_m for the llama.cpp kinds
        start = time.monotonic()
        result = export(kind, source, out_dir / kind, test=True, overwrite=True, **options)
        results.append(result)
        test = result.test
        mark = "[green]passed[/green]" if test and test.passed else "[red]FAILED[/red]"
        console.print(f"{kind:9} {mark}  {result.path} ({human_bytes(result.size_bytes)}, "
                      f"{time.monotonic() - start:.0f} s)")
        for note in result.notes:
            console.print(f"          note: {note}")
        if test:
            console.print(f"          {test.message}")
            if test.sample:
                console.print(f"          sample: {test.sample[:100]!r}")
        if not (test and test.passed):
            problems.append(f"the {kind} export failed its test")
    _done(t)

    console.rule("[bold]Summary")
    console.print(f"Run:      {run_id} (folder {run.folder})")
    console.print(f"Model:    {folder}")
    for r in results:
        console.print(f"{r.kind:9} {r.path}")
    ollama = next((r for r in results if r.kind == "ollama"), None)
    if ollama:
        console.print("\nTo chat with it in Ollama:\n" + ollama.instructions)
    console.print(f"\nFinished in {time.monotonic() - begin:.0f} s.")
    if problems:
        console.print("[red]Problems: " + "; ".join(problems) + "[/red]")
        return 1
    return 0


def _show_quality(quality: Any) -> Any:
    """Print the stored score with its parts (task, retention, training health) and return it (None if none)."""
    from rich.markup import escape

    from peftstudio.quality import QualityScore
    from peftstudio.records.convert import from_dict

    if not isinstance(quality, dict):
        console.print("No quality score was recorded.")
        return None
    score = from_dict(QualityScore, quality)
    console.print(escape(score.render()))
    checks = score.checks
    if checks is not None and checks.seconds:
        console.print(f"[dim](the checks after training took {checks.seconds:.0f} s)[/dim]")
    return score
