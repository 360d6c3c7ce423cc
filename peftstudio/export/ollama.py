"""Ollama export: the GGUF plus a Modelfile whose TEMPLATE is the model's own chat template, translated.

Ollama does not read the chat template inside a GGUF; without a TEMPLATE it sends the prompt raw
and the model answers gibberish or never stops. So the Jinja template is translated into Ollama's
Go template form (see `peftstudio.export.template`), checked by rendering sample conversations
both ways, and written with the stop tokens and the sampling settings as PARAMETERs.

Example:
    >>> from peftstudio.export.template import ChatLayout, RoleBlock
    >>> chatml = ChatLayout("", RoleBlock("<|im_start|>system\\n", "<|im_end|>\\n"),
    ...                     RoleBlock("<|im_start|>user\\n", "<|im_end|>\\n"),
    ...                     RoleBlock("<|im_start|>assistant\\n", "<|im_end|>\\n"), "<|im_start|>assistant\\n")
    >>> text = modelfile_text("m.gguf", OllamaTemplate.of(chatml, ("<|im_end|>",)), GenerationDefaults())
    >>> text.splitlines()[0], 'PARAMETER stop "<|im_end|>"' in text
    ('FROM ./m.gguf', True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attrs import frozen

from peftstudio.errors import make
from peftstudio.export.gguf.exporter import (
    adapter_file_name,
    adapter_gguf_size,
    check_quant,
    gguf_size,
    require_adapter,
    slug,
    write_adapter_gguf,
    write_gguf_into,
)
from peftstudio.export.records import DEFAULT_QUANT, ExportResult, ExportSource, GenerationDefaults
from peftstudio.export.source import ProgressFn, check_disk_space, check_target, listing, load_tokenizer
from peftstudio.export.template import (
    ChatLayout,
    TemplateUntranslatable,
    analyze,
    check_translation,
    stop_words,
    to_go_template,
)
from peftstudio.store.files import atomic_directory, folder_size


@frozen
class OllamaTemplate:
    """The translated chat template: the Go TEMPLATE, a default SYSTEM (if the model has one), stops."""

    template: str
    system: str | None
    stops: tuple[str, ...]
    layout: ChatLayout

    @classmethod
    def of(cls, layout: ChatLayout, stops: tuple[str, ...]) -> OllamaTemplate:
        return cls(to_go_template(layout), layout.default_system, stops, layout)


def hf_renderer(tokenizer: Any) -> Any:
    """`render(messages, add_generation_prompt)` through the tokenizer's own chat template."""
    def render(messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
        return str(tokenizer.apply_chat_template(messages, tokenize=False,
                                                 add_generation_prompt=add_generation_prompt))

    return render


def special_tokens(tokenizer: Any) -> list[str]:
    """The tokenizer's special tokens: the named ones and every added token marked special (as Llama 3's
    ``<|start_header_id|>`` is), which a model writes but a person never types."""
    found = [str(t) for t in getattr(tokenizer, "all_special_tokens", [])]
    for added in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(added, "special", False) and str(added) not in found:
            found.append(str(added))
    return found


def translate_chat_template(tokenizer: Any) -> OllamaTemplate:
    """Translate the tokenizer's chat template for Ollama, checked on sample conversations.

    Raises the plain ``chat_template_untranslatable`` error when the template cannot be expressed
    (rather than writing a Modelfile that would silently prompt the model wrongly).
    """
    if not getattr(tokenizer, "chat_template", None):
        raise make("chat_template_untranslatable", reason="the model has no chat template")
    render = hf_renderer(tokenizer)
    try:
        layout = analyze(render)
    except TemplateUntranslatable as exc:
        raise make("chat_template_untranslatable", reason=str(exc)) from None
    template = to_go_template(layout)
    problems = check_translation(render, template, layout.default_system)
    if problems:
        raise make("chat_template_untranslatable", reason=f"the translation differs on {len(problems)} sample "
                                                          f"conversation(s): {problems[0][:200]}")
    specials = special_tokens(tokenizer)
    return OllamaTemplate.of(layout, stop_words(layout, specials, tokenizer.eos_token))


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def modelfile_text(gguf_name: str, translated: OllamaTemplate, generation: GenerationDefaults, *,
                   adapter: str | None = None, base: str | None = None) -> str:
    """The Modelfile: FROM, ADAPTER (an adapter-only export), TEMPLATE, SYSTEM (the template's default), stops
    and sampling PARAMETERs. `base` is an Ollama model name for FROM instead of the file `gguf_name`."""
    template, system, stops = translated.template, translated.system, translated.stops
    if '"""' in template or (system and '"""' in system):
        raise make("chat_template_untranslatable", reason='the template contains """, which a Modelfile cannot hold')
    lines = [f"FROM {base}" if base else f"FROM ./{gguf_name}"]
    if adapter:
        lines.append(f"ADAPTER ./{adapter}")
    lines += ["", f'TEMPLATE """{template}"""', ""]
    if system:
        lines += [f'SYSTEM """{system}"""', ""]
    lines += [f"PARAMETER stop {_quoted(s)}" for s in stops]
    lines += [f"PARAMETER temperature {generation.temperature:g}", f"PARAMETER top_p {generation.top_p:g}",
              f"PARAMETER num_predict {generation.max_tokens}"]
    if generation.repeat_penalty:
        lines.append(f"PARAMETER repeat_penalty {generation.repeat_penalty:g}")
    return "\n".join(lines) + "\n"


def ollama_instructions(folder: Path, model_name: str) -> str:
    return (f"To use this model in Ollama:\n"
            f"  cd {folder}\n"
            f"  ollama create {model_name} -f Modelfile\n"
            f"  ollama run {model_name}\n")


def export_ollama(
    source: ExportSource,
    out_dir: str | Path,
    *,
    quant: str = DEFAULT_QUANT,
    generation: Any = None,
    adapter_only: bool = False,
    base: str | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    disk_free_bytes: int | None = None,
) -> ExportResult:
    """Export `source` for Ollama: a folder with the GGUF, a Modelfile and a README with the commands.

    With `adapter_only` the LoRA adapter is written as a GGUF adapter and the Modelfile says ``FROM`` the
    base and ``ADAPTER`` the file. `base` names the base as Ollama knows it (e.g. ``smollm2:135m``, already
    pulled): then the export holds the adapter alone, megabytes; without it the base model's GGUF (in
    `quant`) is written beside the adapter.

    Example:
        >>> r = export_ollama(ExportSource("builtin:tiny-llama", name="bot"), "/tmp/ollama")   # doctest: +SKIP
        >>> print(r.instructions.splitlines()[2].strip())                                      # doctest: +SKIP
        ollama create bot -f Modelfile
    """
    check_quant(quant)
    out = Path(out_dir).expanduser()
    check_target(out, overwrite)
    translated = translate_chat_template(load_tokenizer(source))  # fail before the long write
    if adapter_only:
        return _export_ollama_adapter(source, out, quant, translated, GenerationDefaults.from_settings(generation),
                                      base, overwrite, progress, disk_free_bytes)
    if base:
        raise make("config_invalid", problems="base: only an adapter-only Ollama export names its base model")
    check_disk_space(out.parent, gguf_size(source, quant), "the Ollama export", disk_free_bytes)
    model_name = slug(source.display_name).lower()
    with atomic_directory(out, replace=overwrite) as tmp:
        written = write_gguf_into(tmp, source, quant, progress)
        text = modelfile_text(written.name, translated, GenerationDefaults.from_settings(generation))
        (tmp / "Modelfile").write_text(text, encoding="utf-8")
        (tmp / "README.md").write_text(ollama_instructions(out, model_name), encoding="utf-8")
    return ExportResult(kind="ollama", path=str(out), files=listing(out),
                        instructions=ollama_instructions(out, model_name), size_bytes=folder_size(out), quant=quant,
                        model_file=written.name, source=source)


def _export_ollama_adapter(source: ExportSource, out: Path, quant: str, translated: OllamaTemplate,
                           generation: GenerationDefaults, base: str | None, overwrite: bool,
                           progress: ProgressFn | None, disk_free_bytes: int | None) -> ExportResult:
    require_adapter(source)
    base_source = ExportSource(source.model, name=f"{source.display_name}-base")
    needed = adapter_gguf_size(source) + (0 if base else gguf_size(base_source, quant))
    check_disk_space(out.parent, needed, "the Ollama export", disk_free_bytes)
    model_name = slug(source.display_name).lower()
    with atomic_directory(out, replace=overwrite) as tmp:
        adapter = write_adapter_gguf(source, tmp / adapter_file_name(source.display_name), progress=progress)
        base_file = None if base else write_gguf_into(tmp, base_source, quant, progress).name
        text = modelfile_text(base_file or "", translated, generation, adapter=adapter.name, base=base)
        (tmp / "Modelfile").write_text(text, encoding="utf-8")
        (tmp / "README.md").write_text(ollama_instructions(out, model_name), encoding="utf-8")
    return ExportResult(kind="ollama", path=str(out), files=listing(out),
                        instructions=ollama_instructions(out, model_name), size_bytes=folder_size(out),
                        quant=None if base else quant, model_file=base_file, source=source,
                        adapter_file=adapter.name, base=base)


def parse_modelfile(text: str) -> dict[str, Any]:
    '''The parts of a Modelfile this module writes: FROM, TEMPLATE, SYSTEM and PARAMETERs (stops as a list).

    Example:
        >>> parse_modelfile('FROM ./m.gguf\\nTEMPLATE """{{ .Prompt }}"""\\nPARAMETER stop "<|im_end|>"\\n')["stop"]
        ['<|im_end|>']
    '''
    parts: dict[str, Any] = {"stop": []}
    rest = text
    while rest.strip():
        rest = rest.lstrip()
        line, _, after = rest.partition("\n")
        key, _, value = line.partition(" ")
        if value.startswith('"""'):
            body, _, after = (value[3:] + "\n" + after).partition('"""')
            parts[key.lower()] = body
            after = after.partition("\n")[2]
        elif key.upper() == "PARAMETER":
            name, _, raw = value.partition(" ")
            val = json.loads(raw) if raw.startswith('"') else float(raw)
            if name == "stop":
                parts["stop"].append(val)
            else:
                parts[name] = val
        else:
            parts[key.lower()] = value
        rest = after
    return parts
