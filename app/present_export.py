"""Words for the export screen: the four kinds, a finished export, the command to copy, a Test Export verdict.

Example:
    >>> [k["name"] for k in KINDS]
    ['Hugging Face', 'Ollama', 'LM Studio', 'GGUF']
    >>> model_name("Run 1: pirate bot!")
    'run-1-pirate-bot'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.present_versions import size

#: The four export buttons, in the order the screen shows them, with what each is for.
KINDS: tuple[dict[str, str], ...] = (
    {"kind": "hf", "name": "Hugging Face", "what": "A model folder for Python (transformers) or to share "
                                                    "on the Hugging Face Hub."},
    {"kind": "ollama", "name": "Ollama", "what": "Ready for `ollama create`: the model file, its chat "
                                                  "template and settings."},
    {"kind": "lmstudio", "name": "LM Studio", "what": "A folder laid out the way LM Studio's model "
                                                      "library expects."},
    {"kind": "gguf", "name": "GGUF", "what": "One model file for llama.cpp and the many apps built on it."},
)
KIND_NAMES = {k["kind"]: k["name"] for k in KINDS}
#: The tools whose command lines are worth copying from an export's instructions.
_COMMAND_START = re.compile(r"^(cd|ollama|lms|llama-cli|hf)\s")


#: The quantization types the screen offers, smallest file first; the first is the default.
QUANT_ORDER: tuple[str, ...] = ("q4_k_m", "q5_k_m", "q6_k", "q8_0", "f16", "bf16")
#: The kinds that are GGUF files (and so take a quantization type).
GGUF_KINDS = ("ollama", "lmstudio", "gguf")


def quant_choices(parameters: int | None) -> list[dict[str, str]]:
    """The quantization types with their estimated file size (for a model of `parameters` weights; no size
    while it is unknown) and their one-line trade-off.

    Example:
        >>> [(c["quant"], c["label"]) for c in quant_choices(135_000_000)][:2]
        [('q4_k_m', 'Q4_K_M · about 78.1 MB'), ('q5_k_m', 'Q5_K_M · about 91.6 MB')]
        >>> quant_choices(None)[0]["label"]
        'Q4_K_M'
    """
    from peftstudio.export.records import QUANTS

    choices = []
    for name in QUANT_ORDER:
        q = QUANTS[name]
        label = name.upper() + (f" · about {size(q.size_bytes(parameters))}" if parameters else "")
        choices.append({"quant": name, "label": label, "tradeoff": q.tradeoff})
    return choices


def model_name(run_name: str) -> str:
    """A name for the exported model that is safe in file names and commands (no spaces).

    Example:
        >>> model_name(""), model_name("Ärger  im Paradies")
        ('tuned-model', 'rger-im-paradies')
    """
    slug = re.sub(r"[^a-z0-9._-]+", "-", run_name.lower()).strip("-._")
    return slug or "tuned-model"


def command(kind: str, path: str, model_file: str | None, instructions: str) -> str:
    """The shell command to copy: the instructions' command lines joined with ``&&`` (Ollama: ``cd``
    then ``ollama create``), or for a GGUF file the llama.cpp command.

    Example:
        >>> text = "To use this model in Ollama:\\n  cd /x\\n  ollama create bot -f Modelfile\\n  ollama run bot\\n"
        >>> command("ollama", "/x", "bot.gguf", text)
        'cd /x && ollama create bot -f Modelfile && ollama run bot'
        >>> command("gguf", "/x", "bot.gguf", "..."), command("gguf", "/my models", "bot.gguf", "...")
        ('llama-cli -m /x/bot.gguf', "llama-cli -m '/my models/bot.gguf'")
    """
    if kind == "gguf" and model_file:
        return f"llama-cli -m {_quote(str(Path(path) / model_file))}"
    found = []
    for line in instructions.splitlines():
        text = line.strip()
        for prefix in ("2. run: ", "Upload it to the Hub with: "):
            text = text.removeprefix(prefix)
        if _COMMAND_START.match(text):
            found.append(text)
    return " && ".join(found)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def result(r: Any) -> dict[str, Any]:
    """A finished export (an `ExportResult`) as plain data for the screen."""
    files = list(r.files)
    shown = ", ".join(files[:6]) + (f" and {len(files) - 6} more" if len(files) > 6 else "")
    return {
        "kind": r.kind,
        "name": KIND_NAMES.get(r.kind, r.kind),
        "path": r.path,
        "files": f"{len(files)} file{'s' if len(files) != 1 else ''}, {size(r.size_bytes)}: {shown}",
        "quant": r.quant or "",
        "instructions": r.instructions.strip(),
        "command": command(r.kind, r.path, r.model_file, r.instructions),
    }


def verdict(t: Any) -> dict[str, Any]:
    """A Test Export verdict (an `ExportTestResult`) as plain data: passed, the checks, a sample answer.

    Example:
        >>> from types import SimpleNamespace as N
        >>> c = N(name="llama.cpp: logits", passed=True, detail="largest logit difference 0.0004")
        >>> d = verdict(N(passed=True, message="All 1 checks passed.", checks=(c,), sample="", seconds=2.5))
        >>> d["verdict"], d["checks"], d["sample"]
        ('Test passed', ['passed  llama.cpp: logits: largest logit difference 0.0004'], '(no text came back)')
    """
    return {
        "passed": bool(t.passed),
        "verdict": "Test passed" if t.passed else "Test failed",
        "message": t.message,
        "checks": [f"{'passed' if c.passed else 'FAILED'}  {c.name}: {c.detail}" for c in t.checks],
        "sample": t.sample or "(no text came back)",
        "seconds": f"{t.seconds:.1f} s",
    }
