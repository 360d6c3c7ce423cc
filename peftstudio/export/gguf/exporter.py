"""GGUF export: one .gguf file (or a folder holding it), checked for disk space and written atomically.

The file is written by llama.cpp's own converter (from the merged model's Hugging Face folder) and,
for the k-quant types, its quantizer; see `peftstudio.export.converter`.

Example:
    >>> gguf_file_name("My Bot!", "q8_0")
    'My-Bot-Q8_0.gguf'
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from peftstudio.errors import make
from peftstudio.export import converter
from peftstudio.export.records import DEFAULT_QUANT, GGUF_QUANTS, QUANTS, ExportResult, ExportSource
from peftstudio.export.source import (
    ProgressFn,
    adapter_folder,
    base_folder,
    check_disk_space,
    check_target,
    listing,
    load_model,
    load_tokenizer,
    parameter_count,
    report,
)
from peftstudio.store.files import atomic_directory, folder_size

_METADATA_ROOM = 4 * 1024 * 1024  # vocabulary, merges and chat template


def slug(name: str) -> str:
    """`name` with only letters, digits, dots, dashes and underscores (for file and model names)."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", name)).strip("-._") or "model"


def gguf_file_name(name: str, quant: str) -> str:
    return f"{slug(name)}-{quant.upper()}.gguf"


def adapter_file_name(name: str) -> str:
    """The file name of an adapter-only export's GGUF adapter.

    Example:
        >>> adapter_file_name("My Bot!")
        'My-Bot-LoRA-F16.gguf'
    """
    return f"{slug(name)}-LoRA-F16.gguf"


def require_adapter(source: ExportSource) -> Path:
    """The source's adapter folder; a plain error when an adapter-only export has no adapter to export."""
    folder = adapter_folder(source)
    if folder is None:
        raise make("config_invalid", problems="adapter_only: this source has no LoRA adapter (a base model alone "
                                              "is exported whole)")
    return folder


def adapter_gguf_size(source: ExportSource) -> int:
    """Estimated bytes of the source's adapter as a GGUF adapter (f16: half its float32 safetensors)."""
    folder = require_adapter(source)
    return sum(f.stat().st_size for f in folder.glob("*.safetensors")) + _METADATA_ROOM


def write_adapter_gguf(source: ExportSource, path: Path, *, progress: ProgressFn | None = None) -> Path:
    """Write the source's LoRA adapter as the GGUF adapter `path` with llama.cpp's ``convert_lora_to_gguf.py``
    (llama.cpp, Ollama's ``ADAPTER`` and LM Studio apply it on top of the base model).

    Example:
        >>> write_adapter_gguf(ExportSource("builtin:tiny-llama", "run/adapter"), Path("/tmp/a.gguf"))  # doctest: +SKIP
        PosixPath('/tmp/a.gguf')
    """
    adapter = require_adapter(source)
    converter.converter()
    report(progress, "converting", 0, 1, "Converting the adapter with llama.cpp")
    converter.convert_lora(adapter, base_folder(source), path, progress=progress)
    report(progress, "converting", 1, 1, f"Wrote {path.name}")
    return path


def gguf_size(source: ExportSource, quant: str) -> int:
    """Estimated bytes of the source's GGUF file in `quant` (from the base's shapes; nothing is loaded)."""
    return QUANTS[quant].size_bytes(parameter_count(source)) + _METADATA_ROOM


def check_quant(quant: str) -> None:
    if quant not in GGUF_QUANTS:
        raise make("config_invalid", problems=f"quant: expected one of {', '.join(GGUF_QUANTS)}, got {quant!r}")


def hf_folder(source: ExportSource, scratch: Path, progress: ProgressFn | None) -> Path:
    """A Hugging Face folder of the source for the converter: the base itself, or the merged model
    saved under `scratch`."""
    if adapter_folder(source) is None:
        return base_folder(source)
    report(progress, "merging", 0, 1, "Merging the adapter into the model")
    folder = scratch / "merged"
    model = load_model(source)
    model.save_pretrained(str(folder), safe_serialization=True)
    del model
    load_tokenizer(source).save_pretrained(str(folder))
    return folder


def check_vocabulary(folder: Path) -> None:
    """The plain ``tokenizer_mismatch`` error when the folder's tokenizer has ids past the model's vocabulary
    (llama.cpp would read embeddings that do not exist: garbage, or a crash).

    Example:
        >>> check_vocabulary(Path("/nowhere"))
    """
    import json

    config_path, tokenizer_path = folder / "config.json", folder / "tokenizer.json"
    if not config_path.is_file() or not tokenizer_path.is_file():
        return  # a sentencepiece-only tokenizer: the converter reads and checks it
    config = json.loads(config_path.read_text(encoding="utf-8"))
    vocab_size = config.get("vocab_size") or (config.get("text_config") or {}).get("vocab_size")
    if not vocab_size:
        return
    # read tokenizer.json itself (loading the tokenizer through transformers takes seconds)
    data = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    vocab = (data.get("model") or {}).get("vocab") or {}
    ids = list(vocab.values()) if isinstance(vocab, dict) else list(range(len(vocab)))
    ids += [int(t["id"]) for t in data.get("added_tokens") or []]
    size = max(ids) + 1 if ids else 0
    if size > int(vocab_size):
        raise make("tokenizer_mismatch", tokenizer_vocab=size, model_vocab=int(vocab_size))


def write_gguf(source: ExportSource, path: Path, quant: str = "f16", *, progress: ProgressFn | None = None) -> Path:
    """Write the source as the GGUF file `path` with llama.cpp's converter (and its quantizer for the
    k-quant types); a plain write: callers make it atomic.

    Example:
        >>> write_gguf(ExportSource("builtin:tiny-llama"), Path("/tmp/m.gguf"), "q4_k_m")  # doctest: +SKIP
        PosixPath('/tmp/m.gguf')
    """
    check_quant(quant)
    converter.converter()  # a missing converter is named before any work
    with tempfile.TemporaryDirectory(prefix=".peftstudio-gguf-", dir=path.parent) as scratch:
        folder = hf_folder(source, Path(scratch), progress)
        check_vocabulary(folder)
        direct = QUANTS[quant].convert_type
        if direct:
            return converter.convert(folder, path, direct, progress=progress)
        f16 = converter.convert(folder, Path(scratch) / "model-F16.gguf", "f16", progress=progress)
        report(progress, "converting", 1, 2, "Converted to 16 bits; quantizing next")  # half of the way
        report(progress, "quantizing", 0, 1, f"Quantizing to {quant.upper()} with llama.cpp")
        converter.quantize(f16, path, quant)
        report(progress, "quantizing", 1, 1, f"Quantized to {quant.upper()}")
    return path


def write_gguf_into(folder: Path, source: ExportSource, quant: str, progress: ProgressFn | None,
                    subfolder: str = "") -> Path:
    """Write the source's GGUF into `folder` (a temporary export folder); its path."""
    target = folder / subfolder if subfolder else folder
    target.mkdir(parents=True, exist_ok=True)
    return write_gguf(source, target / gguf_file_name(source.display_name, quant), quant, progress=progress)


def gguf_instructions(path: Path) -> str:
    return (f"{path} is a GGUF model file. Use it with llama.cpp (llama-cli -m {path.name}), "
            "or import it into Ollama or LM Studio (PEFT Studio can prepare those exports too).")


def adapter_instructions(path: Path, base: str) -> str:
    return (f"{path} is a LoRA adapter in GGUF form, for the base model {base}. Use it with llama.cpp on a GGUF "
            f"of that base (llama-cli -m BASE.gguf --lora {path.name}), or in an Ollama Modelfile's ADAPTER line.")


def export_gguf(
    source: ExportSource,
    out: str | Path,
    *,
    quant: str = DEFAULT_QUANT,
    adapter_only: bool = False,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    disk_free_bytes: int | None = None,
) -> ExportResult:
    """Export `source` as GGUF. `out` ending in ``.gguf`` is the file itself; otherwise a folder that
    will hold ``NAME-QUANT.gguf``. Either appears only once complete. With `adapter_only` the file is the
    LoRA adapter alone (``NAME-LoRA-F16.gguf``, megabytes), to apply on top of the base model's GGUF.

    Example:
        >>> r = export_gguf(ExportSource("builtin:tiny-llama"), "/tmp/gguf-out", quant="q8_0")  # doctest: +SKIP
        >>> r.model_file                                                                      # doctest: +SKIP
        'tiny-llama-Q8_0.gguf'
    """
    check_quant(quant)
    target = Path(out).expanduser()
    check_target(target, overwrite)
    if adapter_only:
        return _export_adapter_gguf(source, target, overwrite, progress, disk_free_bytes)
    check_disk_space(target.parent, gguf_size(source, quant), "the GGUF file", disk_free_bytes)
    if target.suffix.lower() == ".gguf":
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            write_gguf(source, Path(tmp_name), quant, progress=progress)
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        return ExportResult(kind="gguf", path=str(target.parent), files=(target.name,),
                            instructions=gguf_instructions(target), size_bytes=target.stat().st_size, quant=quant,
                            model_file=target.name, source=source)
    with atomic_directory(target, replace=overwrite) as tmp:
        written = write_gguf_into(tmp, source, quant, progress)
        (tmp / "README.md").write_text(gguf_instructions(target / written.name) + "\n", encoding="utf-8")
    return ExportResult(kind="gguf", path=str(target), files=listing(target),
                        instructions=gguf_instructions(target / written.name), size_bytes=folder_size(target),
                        quant=quant, model_file=written.name, source=source)


def _export_adapter_gguf(source: ExportSource, target: Path, overwrite: bool, progress: ProgressFn | None,
                         disk_free_bytes: int | None) -> ExportResult:
    check_disk_space(target.parent, adapter_gguf_size(source), "the GGUF adapter", disk_free_bytes)
    base = source.model
    with atomic_directory(target, replace=overwrite) as tmp:
        written = write_adapter_gguf(source, tmp / adapter_file_name(source.display_name), progress=progress)
        (tmp / "README.md").write_text(adapter_instructions(target / written.name, base) + "\n", encoding="utf-8")
    return ExportResult(kind="gguf", path=str(target), files=listing(target),
                        instructions=adapter_instructions(target / written.name, base), size_bytes=folder_size(target),
                        quant="f16", model_file=None, source=source, adapter_file=written.name)
