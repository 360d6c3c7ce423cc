"""Test Export: load an exported model with a loader independent of our writer and compare it with the source.

* Hugging Face folders are loaded with transformers (an adapter-only export on top of its base).
* GGUF files (also inside Ollama and LM Studio exports) are loaded with llama.cpp (llama-cpp-python)
  and with transformers' GGUF loader.

For each loader the next-token logits on a few prompts are compared with the source model's
(adapter merged, float32). Limits, relative to the largest source logit (at least 1):

* Hugging Face and f32 GGUF: largest difference at most 0.2% (llama.cpp keeps its attention cache
  in float16, so even f32 files differ slightly);
* f16 GGUF: at most 1%;
* bf16 GGUF: at most 3%;
* quantized GGUF: the same most likely next token on at least a share of positions set per type
  (`MIN_TOP1`: 95% for q8_0 down to 85% for q4_k_m, set from the built-in SmolLM2). Where the source model
  itself hesitates
  (its two best tokens within 1% of the logit scale), picking either counts as agreeing:
  rounding decides such near-ties at random.

llama.cpp's tokenizer must give exactly our token ids on texts with code, emoji and several
languages, and a short answer is generated through the chat template. An Ollama export's Modelfile
template must render sample conversations exactly like the model's chat template.

Example:
    >>> logit_limit("f16", scale=20.0)
    0.2
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from peftstudio.export.records import ExportCheck, ExportResult, ExportSource, ExportTestResult
from peftstudio.export.source import ProgressFn, load_model, load_tokenizer, report

#: Largest allowed logit difference, as a share of the largest source logit, per stored precision.
RELATIVE_LIMITS = {"hf": 2e-3, "f32": 2e-3, "f16": 1e-2, "bf16": 3e-2}
#: Smallest share of positions whose most likely next token must agree, per quantized type. Set from the
#: built-in SmolLM2 (measured: q8_0 99.0%, q6_k 99.0%, q5_k_m 95.0%, q4_k_m 94.1% of 101 positions; see
#: docs/export.md): about 7 points below each figure (3 standard errors at 101 positions), 95% at most.
MIN_TOP1 = {"q8_0": 0.95, "q6_k": 0.93, "q5_k_m": 0.87, "q4_k_m": 0.85}
MIN_TOP1_AGREEMENT = MIN_TOP1["q8_0"]
#: Source logits this close to the best one (as a share of the logit scale) count as a tie.
TIE_MARGIN = 1e-2

PROMPTS: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog. Then it ran into the forest and",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))",
    "Paris is the capital of France. Berlin is the capital of",
)
TOKENIZER_TEXTS: tuple[str, ...] = PROMPTS + (
    "Hello, world! 12345 + 67.89 = ?",
    "for (int i = 0; i < 10; i++) { printf(\"%d\\n\", i); }  // loop",
    "Emoji: 🚀🦙😀👍🏽 and ✅ done",
    "Français: déjà vu, façade. Deutsch: Grüße, Straße. Español: ¿Qué tal? ñandú",
    "中文：我想在苹果工作。日本語：こんにちは世界。한국어: 안녕하세요",
    "Русский текст и ελληνικά γράμματα; العربية",
    "   leading spaces\n\n\ttabs and\r\nwindows newlines   ",
    "I've been told he's there, 'RE you sure? We'Ve a'lL",
)
SAMPLE_QUESTION = "Write one short sentence about the sea."


def logit_limit(stored: str, scale: float) -> float:
    """The largest allowed logit difference for `stored` precision, given the source logits' `scale`."""
    return RELATIVE_LIMITS[stored] * max(1.0, scale)


def agreement(got: Any, ref: Any, tie: float = 0.0) -> Any:
    """Per position: does the export's most likely token match the source's (within `tie` logits)?

    Example:
        >>> import numpy as np
        >>> ref = np.array([[1.0, 0.99, 0.0], [0.0, 1.0, 0.0]])
        >>> got = np.array([[0.9, 1.0, 0.0], [0.0, 1.0, 0.0]])
        >>> agreement(got, ref).tolist(), agreement(got, ref, tie=0.02).tolist()
        ([False, True], [True, True])
    """
    import numpy as np

    best = ref.max(-1)
    chosen = np.take_along_axis(ref, got.argmax(-1)[:, None], -1)[:, 0]
    return chosen >= best - tie


def _compare(name: str, got: Any, ref: Any, stored: str,
             min_top1: Mapping[str, float] = MIN_TOP1) -> tuple[ExportCheck, float, float]:
    import numpy as np

    diff = float(max(np.abs(g - r).max() for g, r in zip(got, ref, strict=True)))
    scale = max(1.0, float(max(np.abs(r).max() for r in ref)))
    exact = float(np.concatenate([agreement(g, r) for g, r in zip(got, ref, strict=True)]).mean())
    agree = np.concatenate([agreement(g, r, TIE_MARGIN * scale) for g, r in zip(got, ref, strict=True)])
    top1 = float(agree.mean())
    if stored in min_top1:
        check = ExportCheck(f"{name}: same next token", top1 >= min_top1[stored], figure=top1,
                            limit=min_top1[stored],
                            detail=f"{top1:.1%} of {agree.size} positions agree ({exact:.1%} without near-ties; "
                                   f"largest logit difference {diff:.3g})")
    else:
        limit = logit_limit(stored, scale)
        check = ExportCheck(f"{name}: logits", diff <= limit, figure=diff, limit=limit,
                            detail=f"largest logit difference {diff:.3g} (limit {limit:.3g}); "
                                   f"{exact:.1%} same next token")
    return check, diff, top1


CHAT_EXAMPLE = (
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris."},
    {"role": "user", "content": "And of Germany?"},
)


class _Reference:
    """The source model's token ids and logits for the prompts (plus a chat through its template).

    Kept for the last source tested, so testing four exports of one model runs it once.
    """

    _last: tuple[Any, _Reference] | None = None

    def __init__(self, source: ExportSource, prompts: Sequence[str]) -> None:
        import torch

        self.tokenizer = load_tokenizer(source)
        texts = list(prompts)
        if getattr(self.tokenizer, "chat_template", None):
            texts.append(str(self.tokenizer.apply_chat_template(list(CHAT_EXAMPLE), tokenize=False,
                                                                add_generation_prompt=True)))
        model = load_model(source)
        self.ids = [self.token_ids(t) for t in texts]
        with torch.no_grad():
            self.logits = [model(torch.tensor([ids])).logits[0].numpy() for ids in self.ids]
        del model

    @classmethod
    def of(cls, source: ExportSource, prompts: Sequence[str]) -> _Reference:
        key = (source, tuple(prompts), _stamp(source))
        if cls._last is None or cls._last[0] != key:
            cls._last = (key, cls(source, prompts))
        return cls._last[1]

    def token_ids(self, text: str) -> list[int]:
        """`text`'s token ids as the model reads it: the beginning-of-text token added unless the text (a
        rendered chat template) starts with it already."""
        bos = self.tokenizer.bos_token
        return list(self.tokenizer(text, add_special_tokens=not (bos and text.startswith(str(bos))))["input_ids"])

    def chat_prompt(self) -> str:
        messages = [{"role": "user", "content": SAMPLE_QUESTION}]
        if getattr(self.tokenizer, "chat_template", None):
            return str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        return SAMPLE_QUESTION


def _stamp(source: ExportSource) -> tuple[tuple[str, int, int], ...]:
    # Files that define the source's weights, with size and time: a retrained adapter is a new source.
    from peftstudio.export.source import adapter_folder, base_folder

    folders = [base_folder(source)] + [f for f in [adapter_folder(source)] if f is not None]
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns)
                 for folder in folders for f in sorted(folder.glob("*.safetensors")))


def _transformers_logits(model: Any, ids: list[list[int]]) -> list[Any]:
    import torch

    with torch.no_grad():
        return [model(torch.tensor([i])).logits[0].float().numpy() for i in ids]


def _check_hf(result: ExportResult, source: ExportSource, ref: _Reference, checks: list[ExportCheck]) -> tuple[
        float, float, str]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(result.path)
    if (folder / "adapter_config.json").is_file():
        from peft import PeftModel

        from peftstudio.export.source import base_folder

        base = AutoModelForCausalLM.from_pretrained(str(base_folder(source)), dtype=torch.float32)
        model = PeftModel.from_pretrained(base, str(folder)).eval()
    else:
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    check, diff, top1 = _compare("transformers", _transformers_logits(model, ref.ids), ref.logits, "hf")
    checks.append(check)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    same = [tokenizer(t)["input_ids"] == ref.tokenizer(t)["input_ids"] for t in TOKENIZER_TEXTS]
    checks.append(_tokenizer_check("transformers tokenizer", same))
    enc = tokenizer(ref.chat_prompt(), return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    sample = str(tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True))
    return diff, top1, sample


def _tokenizer_check(name: str, same: list[bool]) -> ExportCheck:
    share = sum(same) / len(same)
    bad = [TOKENIZER_TEXTS[i][:30] for i, ok in enumerate(same) if not ok]
    return ExportCheck(f"{name}: same token ids", all(same), figure=share, limit=1.0,
                       detail=f"{sum(same)} of {len(same)} texts identical" + (f"; differs on {bad!r}" if bad else ""))


def gguf_problem(path: Path) -> str | None:
    """A plain sentence saying why `path` is not a readable GGUF file, or None when it reads."""
    if not path.is_file():
        return f"The model file {path} is missing."
    try:
        import gguf

        reader = gguf.GGUFReader(str(path))
        size = path.stat().st_size
        for t in reader.tensors:
            if t.data_offset + t.n_bytes > size:
                return f"The model file {path.name} is incomplete: it ends before its weights do ({size} bytes)."
    except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged file
        return f"The model file {path.name} is damaged or incomplete and cannot be read ({type(exc).__name__})."
    return None


def _check_adapter(result: ExportResult, source: ExportSource, ref: _Reference, checks: list[ExportCheck],
                   progress: ProgressFn | None, min_top1: Mapping[str, float]) -> tuple[float, float, str]:
    """An adapter-only export: llama.cpp loads the base GGUF (the export's own, or the base converted at f16
    for the test) with the GGUF adapter on top; compared with the merged model."""
    import tempfile

    adapter = Path(result.path) / str(result.adapter_file)
    if result.model_file:
        return _check_llama_cpp(Path(result.path) / result.model_file, result.quant or "f16", ref, checks,
                                lora=adapter, min_top1=min_top1)
    from peftstudio.export import converter
    from peftstudio.export.source import base_folder

    with tempfile.TemporaryDirectory(prefix="peftstudio-test-base-") as tmp:
        base = converter.convert(base_folder(source), Path(tmp) / "base-F16.gguf", "f16", progress=progress)
        return _check_llama_cpp(base, "f16", ref, checks, lora=adapter)


def _check_llama_cpp(path: Path, stored: str, ref: _Reference, checks: list[ExportCheck],
                     lora: Path | None = None, min_top1: Mapping[str, float] = MIN_TOP1) -> tuple[float, float, str]:
    import numpy as np
    from llama_cpp import Llama

    n_ctx = max(len(i) for i in ref.ids) + 128
    threads = max(1, min(8, os.cpu_count() or 1))
    llm = Llama(model_path=str(path), logits_all=True, n_ctx=max(n_ctx, 256), verbose=False, n_threads=threads,
                seed=0, lora_path=str(lora) if lora else None)
    try:
        same = [llm.tokenize(t.encode("utf-8"), add_bos=False, special=True)
                == ref.tokenizer(t, add_special_tokens=False)["input_ids"] for t in TOKENIZER_TEXTS]
        checks.append(_tokenizer_check("llama.cpp tokenizer", same))
        got = []
        for ids in ref.ids:
            llm.reset()
            llm.eval(ids)
            got.append(np.array(llm.scores[: len(ids)], dtype=np.float32))
        check, diff, top1 = _compare("llama.cpp", got, ref.logits, stored, min_top1)
        checks.append(check)
        llm.reset()
        # token ids, not text: llama.cpp would add a second beginning-of-text token to a template that has one
        out = llm.create_completion(ref.token_ids(ref.chat_prompt()), max_tokens=24, temperature=0.0)
        sample = str(out["choices"][0]["text"])  # type: ignore[index]
    finally:
        llm.close()
    return diff, top1, sample


def _check_transformers_gguf(path: Path, stored: str, ref: _Reference, checks: list[ExportCheck],
                             min_top1: Mapping[str, float] = MIN_TOP1) -> tuple[float, float]:
    import torch
    from transformers import AutoModelForCausalLM

    from peftstudio.models.builtins import quiet_transformers

    quiet_transformers()  # its GGUF loader draws a progress bar per tensor; we report progress ourselves
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32).eval()
    check, diff, top1 = _compare("transformers GGUF loader", _transformers_logits(model, ref.ids), ref.logits, stored,
                                 min_top1)
    checks.append(check)
    return diff, top1


def _check_modelfile(folder: Path, ref: _Reference, checks: list[ExportCheck]) -> None:
    from peftstudio.export.ollama import hf_renderer, parse_modelfile
    from peftstudio.export.template import check_translation

    path = folder / "Modelfile"
    if not path.is_file():
        checks.append(ExportCheck("Modelfile", False, detail="The Modelfile is missing."))
        return
    parts = parse_modelfile(path.read_text(encoding="utf-8"))
    problems = check_translation(hf_renderer(ref.tokenizer), parts.get("template", ""), parts.get("system"))
    named = str(parts.get("from", ""))
    # FROM a file of the export, or (adapter-only) the base model's name in Ollama
    from_ok = (folder / named.removeprefix("./")).is_file() if named.startswith("./") else bool(named)
    if "adapter" in parts:
        from_ok = from_ok and (folder / str(parts["adapter"]).removeprefix("./")).is_file()
    eos_ok = ref.tokenizer.eos_token in parts["stop"]
    checks.append(ExportCheck("Modelfile template", not problems and from_ok and eos_ok,
                              figure=float(not problems), limit=1.0,
                              detail=("template renders the sample conversations like the chat template"
                                      if not problems else problems[0][:300])
                              + ("" if from_ok else "; FROM or ADAPTER names a missing file")
                              + ("" if eos_ok else "; the end-of-answer token is not a stop")))


def _guarded(name: str, checks: list[ExportCheck], fn: Any, *args: Any) -> Any:
    """Run one loader check; a failure becomes a failed check with a plain sentence, never a traceback."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - a loader failing is a result to report, not a crash
        from peftstudio.errors import PlainError, log_exception

        if isinstance(exc, ImportError):
            text = (f"{exc.name or 'a package'} is not installed; install it with: "
                    'pip install "peftstudio[llama]"')
        elif isinstance(exc, PlainError):
            text = exc.info.explanation
        else:
            text = f"{type(exc).__name__}: {str(exc)[:200]}"
        log_exception(exc)
        checks.append(ExportCheck(name, False, detail=f"{name} could not load the export ({text})."))
        return None


#: The loaders Test Export can use for a GGUF file.
GGUF_LOADERS: tuple[str, ...] = ("llama.cpp", "transformers")


def verify_export(result: ExportResult, source: ExportSource | None = None, *, prompts: Sequence[str] = PROMPTS,
                  loaders: Sequence[str] = GGUF_LOADERS, progress: ProgressFn | None = None,
                  min_top1: Mapping[str, float] | None = None) -> ExportTestResult:
    """Check the export `result` of `source` (default: the source it records) with independent loaders.

    `loaders` picks which of llama.cpp and transformers' GGUF loader read a GGUF file (both by
    default; leaving one out saves time, e.g. in a demo). A Hugging Face folder is read by transformers.
    `min_top1` replaces limits of `MIN_TOP1` per quantized type (random-weight test models, whose scores
    are nearly flat, agree less than any trained model).

    Example:
        >>> r = export_gguf(ExportSource("builtin:tiny-llama"), "/tmp/g", quant="f16")   # doctest: +SKIP
        >>> verify_export(r).passed                                                       # doctest: +SKIP
        True
    """
    started = time.monotonic()
    limits = {**MIN_TOP1, **(min_top1 or {})}
    unknown = sorted(set(loaders) - set(GGUF_LOADERS))
    if unknown or not loaders:
        from peftstudio.errors import make

        raise make("config_invalid", problems=f"loaders: expected some of {', '.join(GGUF_LOADERS)}, got "
                                              f"{', '.join(loaders) or 'none'}")
    source = source or result.source
    if source is None:
        return ExportTestResult(kind=result.kind, passed=False, message="The export does not say which model it "
                                                                        "came from; give the source to test it.")
    checks: list[ExportCheck] = []
    diffs: list[float] = []
    tops: list[float] = []
    sample = ""
    report(progress, "testing", 0, 3, "Running the original model")
    if result.kind != "hf":
        path = Path(result.path) / str(result.model_file)
        files = ([path] if result.model_file else []) + (
            [Path(result.path) / result.adapter_file] if result.adapter_file else [])
        for file in files:
            problem = gguf_problem(file)
            if problem:
                return ExportTestResult(kind=result.kind, passed=False, message=problem,
                                        checks=(ExportCheck("GGUF file", False, detail=problem),),
                                        seconds=time.monotonic() - started)
    ref = _Reference.of(source, prompts)
    if result.kind == "hf":
        out = _guarded("transformers", checks, _check_hf, result, source, ref, checks)
        if out:
            diffs.append(out[0])
            tops.append(out[1])
            sample = out[2]
    elif result.adapter_file:
        report(progress, "testing", 1, 3, "Loading the base model and the adapter with llama.cpp")
        out = _guarded("llama.cpp", checks, _check_adapter, result, source, ref, checks, progress, limits)
        if out:
            diffs.append(out[0])
            tops.append(out[1])
            sample = out[2]
        if result.kind == "ollama":
            _check_modelfile(Path(result.path), ref, checks)
    else:
        stored = result.quant or "f16"
        if "llama.cpp" in loaders:
            report(progress, "testing", 1, 3, "Loading the file with llama.cpp")
            out = _guarded("llama.cpp", checks, _check_llama_cpp, path, stored, ref, checks, None, limits)
            if out:
                diffs.append(out[0])
                tops.append(out[1])
                sample = out[2]
        if "transformers" in loaders:
            report(progress, "testing", 2, 3, "Loading the file with transformers")
            out2 = _guarded("transformers GGUF loader", checks, _check_transformers_gguf, path, stored, ref, checks,
                            limits)
            if out2:
                diffs.append(out2[0])
                tops.append(out2[1])
        if result.kind == "ollama":
            _check_modelfile(Path(result.path), ref, checks)
        if result.kind == "lmstudio":
            depth = len(Path(str(result.model_file)).parts)
            checks.append(ExportCheck("LM Studio layout", depth == 3, detail=f"file at {result.model_file}"))
    report(progress, "testing", 3, 3, "Done")
    tok = [c.figure for c in checks if "tokenizer" in c.name and c.figure is not None]
    failed = [c for c in checks if not c.passed]
    message = _summary(checks, failed)
    return ExportTestResult(
        kind=result.kind, passed=not failed and bool(checks), message=message, checks=tuple(checks),
        max_abs_logit_diff=max(diffs) if diffs else None, top1_agreement=min(tops) if tops else None,
        tokenizer_agreement=min(tok) if tok else None, sample=_printable(sample), seconds=time.monotonic() - started,
    )


def _summary(checks: list[ExportCheck], failed: list[ExportCheck]) -> str:
    """One paragraph for the user: which checks failed and why, or the key figures when all passed."""
    if not checks:
        return "Nothing could be checked."
    if failed:
        return f"{len(failed)} of {len(checks)} checks failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
    key = [f"{c.name}: {c.detail}" for c in checks if "logits" in c.name or "same next" in c.name]
    return f"All {len(checks)} checks passed. " + "; ".join(key)


def _printable(text: str) -> str:
    # A barely trained model may emit control bytes; show them as a replacement mark, not raw.
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text).strip()


