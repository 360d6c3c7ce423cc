"""LM Studio export: the GGUF placed in LM Studio's ``publisher/model-name/`` models layout.

LM Studio lists a model only when its file sits two folders deep in its models folder
(``~/.lmstudio/models/PUBLISHER/MODEL/file.gguf``). LM Studio reads the chat template from the
GGUF itself, so nothing else is needed.

Example:
    >>> print(lmstudio_instructions(Path("/tmp/out"), "peftstudio", "my-bot", "my-bot-Q8_0.gguf").splitlines()[0])
    To use this model in LM Studio, either:
"""

from __future__ import annotations

from pathlib import Path

from peftstudio.export.gguf.exporter import check_quant, gguf_size, slug, write_gguf_into
from peftstudio.export.records import DEFAULT_QUANT, ExportResult, ExportSource
from peftstudio.export.source import ProgressFn, check_disk_space, check_target, listing
from peftstudio.store.files import atomic_directory, folder_size

DEFAULT_PUBLISHER = "peftstudio"


def lmstudio_instructions(out: Path, publisher: str, model: str, file_name: str) -> str:
    return (
        "To use this model in LM Studio, either:\n"
        f"  1. copy the folder {out / publisher} into LM Studio's models folder (by default ~/.lmstudio/models;\n"
        "     LM Studio shows it under My Models), so the file ends up at\n"
        f"     ~/.lmstudio/models/{publisher}/{model}/{file_name}; or\n"
        f"  2. run: lms import {out / publisher / model / file_name}\n"
        f"Then load {publisher}/{model} in LM Studio's chat."
    )


def export_lmstudio(
    source: ExportSource,
    out_dir: str | Path,
    *,
    quant: str = DEFAULT_QUANT,
    publisher: str = DEFAULT_PUBLISHER,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    disk_free_bytes: int | None = None,
) -> ExportResult:
    """Export `source` for LM Studio: ``out_dir/PUBLISHER/MODEL/MODEL-QUANT.gguf`` plus a README.

    Example:
        >>> r = export_lmstudio(ExportSource("builtin:tiny-llama"), "/tmp/lms")   # doctest: +SKIP
        >>> r.model_file                                                        # doctest: +SKIP
        'peftstudio/tiny-llama/tiny-llama-Q8_0.gguf'
    """
    check_quant(quant)
    out = Path(out_dir).expanduser()
    check_target(out, overwrite)
    check_disk_space(out.parent, gguf_size(source, quant), "the LM Studio export", disk_free_bytes)
    publisher, model = slug(publisher), slug(source.display_name)
    with atomic_directory(out, replace=overwrite) as tmp:
        written = write_gguf_into(tmp, source, quant, progress, subfolder=f"{publisher}/{model}")
        text = lmstudio_instructions(out, publisher, model, written.name)
        (tmp / "README.md").write_text(text + "\n", encoding="utf-8")
    return ExportResult(kind="lmstudio", path=str(out), files=listing(out), instructions=text,
                        size_bytes=folder_size(out), quant=quant, model_file=f"{publisher}/{model}/{written.name}",
                        source=source)
