"""The catalog of every failure we know, as plain errors with actions.

Each entry's texts are templates filled from keyword details given to `make`.
`docs/errors.md` has one section per code (a test checks it).

Example:
    >>> err = make("disk_full", needed="2.1 GB", free="0.4 GB")
    >>> "2.1 GB" in err.info.explanation
    True
"""

from __future__ import annotations

import errno
import logging
import time
import traceback
from typing import Any

from attrs import frozen

from peftstudio.errors.plain import Action, ErrorInfo, PlainError


@frozen
class _Entry:
    title: str
    explanation: str
    actions: tuple[Action, ...]


def _a(label: str, fix_id: str | None = None, *steps: str) -> Action:
    return Action(label=label, fix_id=fix_id, steps=steps)


CATALOG: dict[str, _Entry] = {
    "out_of_memory": _Entry(
        "Not enough memory to train",
        "Training needed more memory than {device} had free{where}. Nothing is lost: the run can continue "
        "from its last checkpoint with settings that need less memory.",
        (
            _a("Halve the batch size (the effective batch stays the same)", "halve_batch"),
            _a("Use 4-bit loading of the base model", "use_4bit"),
            _a("Use a shorter sequence length", "shorter_sequences"),
        ),
    ),
    "dataset_invalid": _Entry(
        "The training data has problems",
        "{summary} Training would fail or learn the wrong thing from it.",
        (
            _a("Skip the broken rows and continue", "skip_broken_rows"),
            _a("Fix the file by hand", None, "Open the file in a text editor.",
               "Go to the rows listed in the data check and correct them.", "Check the data again."),
        ),
    ),
    "file_not_found": _Entry(
        "File not found",
        "PEFT Studio could not find {path}.",
        (
            _a("Check the path", None, "Make sure the file exists and the name is spelled right.",
               "Use the full path if the file is in another folder."),
            _a("Pick the file again", None,
               "In the studio's data step, upload it or choose it from the server's files."),
        ),
    ),
    "model_not_found": _Entry(
        "Model not found",
        "{reference} is not a built-in model, a model folder on this computer, a .gguf file or a known "
        "model name.",
        (
            _a("Use a built-in model", "use_builtin", "Built-in models: {builtins}."),
            _a("Point to a model folder", None, "Give the path of a folder with config.json and weights."),
        ),
    ),
    "model_path_invalid": _Entry(
        "This is not a model PEFT Studio can use",
        "{path} {reason}. A model on this computer is a folder holding config.json (with the tokenizer and "
        "the .safetensors weights beside it), or a single .gguf file.",
        (
            _a("Give the model's full path", None,
               "Give the full path of the folder that holds config.json, or of the .gguf file itself.",
               "The path is read on the computer that runs PEFT Studio."),
            _a("Use a built-in model", "use_builtin", "Choose one of the built-in models in the model step."),
        ),
    ),
    "model_offline": _Entry(
        "This model must be downloaded, and there is no internet connection",
        "{reference} is a Hugging Face Hub name. Downloading it needs a connection, and this computer is "
        "offline (or the Hub cannot be reached). Built-in models and model folders on this computer work "
        "without internet.",
        (
            _a("Use a built-in model instead", "use_builtin", "Built-in models: {builtins}."),
            _a("Use a model folder you already have", None,
               "Copy the model's folder (config.json, tokenizer and .safetensors files) to this computer.",
               "Give that folder's path as the model."),
            _a("Connect to the internet and try again", None, "Check your network connection, then retry."),
        ),
    ),
    "model_gated": _Entry(
        "This model needs its licence accepted first",
        "{reference} is a gated model on the Hugging Face Hub: its makers let you download it only after you "
        "accept their licence on the model's page, and the Hub must know who you are.",
        (
            _a("Accept the licence and log in", None,
               "Open https://huggingface.co/{reference} in a browser, sign in and accept the licence.",
               "In a terminal, run: hf auth login (paste an access token from your Hugging Face settings).",
               "Start again; the download then works."),
            _a("Use a model without a licence gate", "use_builtin", "Built-in models: {builtins}.",
               "Qwen3, SmolLM3, Phi-4-mini and gpt-oss download without accepting a licence."),
        ),
    ),
    "disk_full": _Entry(
        "Not enough disk space",
        "Writing {what} needs about {needed} but only {free} is free. The last saved checkpoint is intact, "
        "so nothing is lost.",
        (
            _a("Archive or delete old model versions", "free_space"),
            _a("Free disk space yourself", None, "Delete files you no longer need, or empty the trash.",
               "Then resume the run."),
        ),
    ),
    "permission_denied": _Entry(
        "PEFT Studio is not allowed to use this file or folder",
        "The operating system refused access to {path}.",
        (
            _a("Choose another folder", None, "Pick a folder inside your home folder."),
            _a("Change the permissions", None, "Make the file or folder writable for your user account."),
        ),
    ),
    "file_unreadable": _Entry(
        "This file cannot be read",
        "PEFT Studio cannot read {path}: {reason}.",
        (
            _a("Point at the file itself", None, "If the path is a link, use the path of the file it stands for.",
               "Copy the file into your home folder and choose the copy."),
            _a("Pick the file again", None,
               "In the studio's data step, upload it or choose it from the server's files."),
        ),
    ),
    "no_gpu": _Entry(
        "No usable GPU",
        "{detail} Training will run on the processor instead, which is much slower.",
        (
            _a("Train on the processor (CPU)", "use_cpu"),
            _a("Check the GPU driver", None, "Run nvidia-smi in a terminal to see whether the GPU is visible.",
               "Install or update the NVIDIA driver and CUDA-enabled PyTorch."),
        ),
    ),
    "bitsandbytes_missing": _Entry(
        "4-bit loading is not available here",
        "4-bit (QLoRA) loading needs the bitsandbytes package and an NVIDIA GPU with CUDA. {detail}",
        (
            _a("Train without 4-bit loading", "no_quantization"),
            _a("Install the GPU extra", None, 'Run: pip install "peftstudio[gpu]"', "Then start the run again."),
        ),
    ),
    "tokenizer_mismatch": _Entry(
        "The tokenizer does not belong to this model",
        "The tokenizer knows {tokenizer_vocab} tokens but the model expects {model_vocab}. Using them "
        "together would produce garbage.",
        (
            _a("Use the tokenizer from the model's own folder", "use_model_tokenizer"),
            _a("Pick a matching model", None, "Choose the model the tokenizer came with."),
        ),
    ),
    "nan_loss": _Entry(
        "Training became unstable",
        "The loss became {value} at step {step}, which means training diverged. The run was paused and the "
        "last good checkpoint is kept.",
        (
            _a("Resume with a smaller learning rate ({suggested_lr})", "lower_learning_rate"),
            _a("Turn on gradient clipping and resume", "enable_clipping"),
            _a("Check the data for broken examples", None, "Run the data check and fix what it finds."),
        ),
    ),
    "interrupted_run": _Entry(
        "The run was interrupted",
        "The training process stopped unexpectedly{where}. The run can continue from its last checkpoint "
        "(step {step}).",
        (
            _a("Resume from the last checkpoint", "resume"),
            _a("Start the run again from the beginning", "restart"),
        ),
    ),
    "checkpoint_corrupt": _Entry(
        "A saved checkpoint cannot be read",
        "The checkpoint {path} is damaged or incomplete. {fallback}",
        (
            _a("Resume from the previous checkpoint", "resume_previous"),
            _a("Start the run again from the beginning", "restart"),
        ),
    ),
    "export_unsupported_architecture": _Entry(
        "This model cannot be exported to that format",
        "{architecture} models cannot be written as GGUF yet. Supported: {supported}.",
        (
            _a("Export to Hugging Face format instead", "export_hf"),
            _a("Use a supported model", None, "Train a model from one of the families listed above."),
        ),
    ),
    "export_tools_missing": _Entry(
        "llama.cpp's converter is not installed",
        "GGUF, Ollama and LM Studio exports use llama.cpp's own converter and quantizer. {detail}",
        (
            _a("Install it", None, "Run: peftstudio setup-export (or make setup in a source checkout).",
               'If llama-cpp-python is missing, first run: pip install "peftstudio[llama]"'),
            _a("Export to Hugging Face format instead", "export_hf"),
        ),
    ),
    "export_failed": _Entry(
        "The export could not be written",
        "{detail}",
        (
            _a("Export to Hugging Face format instead", "export_hf"),
            _a("Report the problem", None, "Attach the message above when you report it."),
        ),
    ),
    "chat_template_untranslatable": _Entry(
        "The chat template cannot be written for Ollama",
        "The model's chat template could not be translated into Ollama's template form: {reason}. A "
        "Modelfile without the right template would make the model answer gibberish in Ollama.",
        (
            _a("Export to GGUF or LM Studio instead", "export_gguf"),
            _a("Write the Modelfile's TEMPLATE yourself", None,
               "Export to GGUF, then write a Modelfile with FROM ./the-file.gguf and a TEMPLATE.",
               "See Ollama's template documentation for the syntax."),
        ),
    ),
    "config_invalid": _Entry(
        "The settings are not valid",
        "{problems}",
        (
            _a("Correct the settings named above", None, "Edit the file or the fields named in the message."),
            _a("Start from the smart defaults", "use_defaults"),
        ),
    ),
    "newer_format": _Entry(
        "Made by a newer PEFT Studio",
        "{detail}",
        (
            _a("Upgrade PEFT Studio", None, "Run: pip install --upgrade peftstudio"),
            _a("Ask the sender for a file from your version", None,
               "The person who shared it can export it again from an older PEFT Studio."),
        ),
    ),
    "run_not_found": _Entry(
        "No such run",
        "There is no run called {run_id}.",
        (
            _a("List the runs", None, "Run: peftstudio runs list"),
            _a("Check the run id", None, "Copy the id from the list; a unique beginning of it is enough."),
        ),
    ),
    "item_not_found": _Entry(
        "No such {kind}",
        "There is no {kind} called {name}.",
        (
            _a("List them", None, "Run: peftstudio {command} list"),
            _a("Check the name", None, "Copy the name or id from the list; a unique beginning of an id is enough."),
        ),
    ),
    "sign_in_needed": _Entry(
        "Open the studio from its link",
        "This page needs the link that `peftstudio app` or `peftstudio serve` printed when it started (the "
        "link carries a one-time key that signs this browser in). {detail}",
        (
            _a("Use the printed link", None, "Copy the whole link from the terminal where the studio runs.",
               "Open it in this browser; it signs you in and can be used once."),
            _a("Start the studio again", None, "Stop it with Ctrl-C and run `peftstudio app` (or `serve`) again "
               "for a new link."),
        ),
    ),
    "request_refused": _Entry(
        "Request refused",
        "The studio refused this request: {reason}. This protects the studio from other web pages and from "
        "other computers on the network.",
        (
            _a("Open the studio from its own address", None, "Use the link printed by `peftstudio app` or "
               "`peftstudio serve`, not a page of another site."),
            _a("Allow the host name", None, "Serving under another name? Start with: peftstudio serve "
               "--allow-host NAME"),
        ),
    ),
    "path_not_allowed": _Entry(
        "That file is outside the allowed folders",
        "{path} is not inside a folder the studio may read ({folders}). Files come in by upload, or from "
        "folders named when the studio starts.",
        (
            _a("Upload the file", None, "Use Upload in the data step of the wizard."),
            _a("Allow its folder", None, "Start the studio with: peftstudio serve --data-dir FOLDER"),
        ),
    ),
    "upload_too_large": _Entry(
        "The file is too large to upload",
        "The upload was larger than {limit}; nothing of it was kept.",
        (
            _a("Use the file from a folder on the server", None,
               "Copy it to the training machine and start the studio with --data-dir FOLDER."),
            _a("Allow larger uploads", None, "Start the studio with --max-upload-mb N."),
        ),
    ),
    "internal_error": _Entry(
        "Something went wrong",
        "PEFT Studio hit a problem it does not know how to explain ({kind}). The details were saved to "
        "{log_path}.",
        (
            _a("Try again", "retry"),
            _a("Get help", None, "Open the help page for this error.",
               "Attach the log file {log_path} when you report it."),
        ),
    ),
}


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return _DEFAULTS.get(key, "")


_DEFAULTS = {
    "device": "this computer",
    "builtins": "builtin:smollm2-135m, builtin:tiny-llama",
    "suggested_lr": "a third of the current one",
    "what": "the files",
    "needed": "more space",
    "free": "less",
    "kind": "unknown error",
}


def make(code: str, **details: Any) -> PlainError:
    """The plain error for `code`, its texts filled from `details` (kept in `info.details`)."""
    entry = CATALOG[code]
    values = _Blank({k: v for k, v in details.items()})
    actions = tuple(
        Action(
            label=a.label.format_map(values),
            fix_id=a.fix_id,
            steps=tuple(s.format_map(values) for s in a.steps),
        )
        for a in entry.actions
    )
    info = ErrorInfo(
        code=code,
        title=entry.title.format_map(values),
        explanation=" ".join(entry.explanation.format_map(values).split()),
        actions=actions,
        help_anchor=code.replace("_", "-"),
        details={k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for k, v in details.items()},
    )
    return PlainError(info)


def log_exception(exc: BaseException) -> str:
    """Write the traceback of `exc` to a log file under the home folder; return the file's path."""
    from peftstudio import paths

    path = paths.logs_dir() / time.strftime("error-%Y%m%d-%H%M%S.log")
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    logging.getLogger("peftstudio").debug("saved traceback to %s", path)
    return str(path)


#: errno -> why a path cannot be read, in words
_UNREADABLE = {
    errno.ELOOP: "it is a link that leads back to itself (a loop of links)",
    errno.EISDIR: "it is a folder, not a file",
    errno.EIO: "the disk reported a read error",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ENXIO: "it is a device, not a file",
}


def as_plain(exc: BaseException) -> PlainError:
    """Any exception as a plain error: known kinds are recognised, unknown ones logged to a file."""
    if isinstance(exc, PlainError):
        return exc
    from peftstudio.records.convert import RecordError

    if isinstance(exc, RecordError):
        if exc.newer:
            return make("newer_format", detail=" ".join(exc.problems))
        return make("config_invalid", problems="; ".join(exc.problems))
    if isinstance(exc, FileNotFoundError):
        return make("file_not_found", path=exc.filename or str(exc))
    if isinstance(exc, PermissionError):
        return make("permission_denied", path=exc.filename or "a file")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return make("disk_full", what=exc.filename or "the files")
    if isinstance(exc, OSError) and exc.errno in _UNREADABLE:
        return make("file_unreadable", path=exc.filename or "the file", reason=_UNREADABLE[exc.errno])
    name = type(exc).__name__
    if name == "OutOfMemoryError" or "out of memory" in str(exc).lower():
        return make("out_of_memory")
    return make("internal_error", kind=name, log_path=log_exception(exc))
