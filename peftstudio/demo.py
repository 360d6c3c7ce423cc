"""The demo: PEFT Studio's whole flow, offline, on a built-in model.

Run it with ``peftstudio demo`` (what ``make demo`` does). Each step prints what it did
in plain words; the last lines say where everything is.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

console = Console(highlight=False)


def _step(title: str) -> float:
    console.rule(f"[bold]{title}")
    return time.monotonic()


def _done(start: float) -> None:
    console.print(f"[dim]({time.monotonic() - start:.1f} s)[/dim]")


def run_demo(*, model: str = "builtin:smollm2-135m", out: str | None = None, quick: bool = False) -> int:
    """Run the demo; returns the process exit code (0 when every step passed)."""
    from peftstudio.cli.output import human_bytes
    from peftstudio.hardware import probe_hardware
    from peftstudio.models import build_tiny_llama, load_model, load_tokenizer, model_folder

    out_dir = Path(out or "demo-output").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    begin = time.monotonic()

    t = _step("1. Your computer")
    hw = probe_hardware()
    console.print(f"{hw.cpu_cores} processor cores, {human_bytes(hw.ram_total_bytes)} memory, "
                  f"{human_bytes(hw.disk_free_bytes)} free disk.")
    console.print("GPUs: " + (", ".join(g.name for g in hw.gpus) if hw.gpus else "none, so training runs on the processor"))
    _done(t)

    t = _step("2. Built-in models")
    tiny = build_tiny_llama()
    console.print(f"builtin:tiny-llama ready in {tiny}")
    folder = model_folder(model)
    console.print(f"{model} ready in {folder}")
    _done(t)

    t = _step("3. Ask the base model a question")
    tokenizer = load_tokenizer(model)
    lm = load_model(model)
    question = "What is the capital of France?"
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    output = lm.generate(**inputs, max_new_tokens=24, do_sample=False)
    answer = tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    console.print(f"[bold]You:[/bold] {question}\n[bold]{model}:[/bold] {answer}")
    _done(t)

    console.rule("[bold]Summary")
    console.print(f"Models are cached in {folder.parent}.")
    console.print(f"Demo output folder: {out_dir}")
    console.print(f"Finished in {time.monotonic() - begin:.0f} s.")
    return 0
