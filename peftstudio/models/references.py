"""Model references: what a user may type to name a base model.

* ``builtin:NAME`` — a model that ships with PEFT Studio (works offline);
* a local folder holding a Hugging Face model (``config.json`` and weights);
* a ``.gguf`` file (converted once into a folder PEFT Studio can train);
* a Hugging Face Hub id such as ``meta-llama/Llama-3.2-1B-Instruct`` (needs internet the first time).

Example:
    >>> parse_reference("builtin:tiny-llama").kind
    'builtin'
    >>> parse_reference("HuggingFaceTB/SmolLM2-135M-Instruct").kind
    'hub'
    >>> local_model("models/mine")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    peftstudio.errors.plain.PlainError: This is not a model PEFT Studio can use: models/mine is not a full path...
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from attrs import frozen

from peftstudio.errors import make

BUILTIN_MODELS: dict[str, str] = {
    "tiny-llama": "A tiny Llama-style model with random weights, built in seconds. For tests and trying things out; "
                  "it cannot really chat.",
    "smollm2-135m": "SmolLM2-135M-Instruct by Hugging Face: a real, small chat model (135 million parameters) that "
                    "runs on any computer. The demo's model.",
    "gemma3-270m": "Gemma 3 270M by Google: a real base model (270 million parameters, a large vocabulary of 262,144 "
                   "tokens, many languages) made for task-specific fine-tuning. Gemma terms of use apply.",
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


@frozen
class ModelReference:
    """A parsed model reference: its `kind` (builtin, folder, gguf, hub) and `value`."""

    kind: str
    value: str
    original: str

    @property
    def display_name(self) -> str:
        if self.kind == "builtin":
            return f"builtin:{self.value}"
        return Path(self.value).name if self.kind in ("folder", "gguf") else self.value


def builtin_names() -> str:
    return ", ".join(f"builtin:{n}" for n in BUILTIN_MODELS)


def parse_reference(reference: str) -> ModelReference:
    """Recognise what kind of model reference `reference` is; a plain error when it is none of them."""
    text = reference.strip()
    if text.startswith("builtin:"):
        name = text.split(":", 1)[1]
        if name not in BUILTIN_MODELS:
            raise make("model_not_found", reference=text, builtins=builtin_names())
        return ModelReference("builtin", name, reference)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise make("file_not_found", path=str(path))
        return ModelReference("gguf", str(path.resolve()), reference)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise make("model_not_found", reference=text, builtins=builtin_names())
        return ModelReference("folder", str(path.resolve()), reference)
    if _HUB_ID.match(text) and not text.startswith((".", "/")):
        return ModelReference("hub", text, reference)
    raise make("model_not_found", reference=text, builtins=builtin_names())


#: The first bytes of every GGUF file.
GGUF_MAGIC = b"GGUF"


def _not_a_model(path: str, reason: str) -> Exception:
    return make("model_path_invalid", path=path, reason=reason)


def local_model(text: str) -> ModelReference:
    """A model on this computer named by its full path: a folder holding ``config.json``, or a ``.gguf`` file.

    Stricter than `parse_reference` (where a path that is not there may still be a Hub name): the path must be
    absolute and exist; a folder's ``config.json`` must be a readable file; a ``.gguf`` file must be a regular
    file that begins like one. Nothing else is read. A plain ``model_path_invalid`` (or ``file_not_found``)
    error says what is wrong.
    """
    text = (text or "").strip()
    if not text:
        raise make("config_invalid", problems="`path`: give the full path of a model folder or a .gguf file")
    if "\x00" in text:
        raise make("config_invalid", problems="`path`: a path cannot contain a NUL character")
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise _not_a_model(text, "is not a full path (one that starts at the top of the disk, like /home/you/model)")
    try:
        if not path.exists():
            raise make("file_not_found", path=text)
        if path.is_dir():
            config = path / "config.json"
            if not config.exists():
                raise _not_a_model(text, "is a folder without config.json, so not a model folder")
            if not config.is_file():
                raise _not_a_model(text, "has a config.json that is not a file")
            if not os.access(path, os.R_OK | os.X_OK):
                raise _not_a_model(text, "is a folder this server's user may not read")
            with open(config, "rb") as fh:
                fh.read(1)
            return ModelReference("folder", str(path.resolve()), text)
        if not path.is_file():
            raise _not_a_model(text, "is neither a file nor a folder (a device, a pipe or a socket)")
        if path.suffix.lower() != ".gguf":
            raise _not_a_model(text, "is a file, but not a .gguf model file")
        with open(path, "rb") as fh:
            if fh.read(len(GGUF_MAGIC)) != GGUF_MAGIC:
                raise _not_a_model(text, "ends in .gguf but is not a GGUF file (it does not begin like one)")
        return ModelReference("gguf", str(path.resolve()), text)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise _not_a_model(text, f"cannot be read: {reason.lower()}") from None
