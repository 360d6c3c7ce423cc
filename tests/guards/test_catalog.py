"""Every catalog entry: its failure raised through the real code path, with a plain message and actions."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from peftstudio.errors import CATALOG, PlainError, as_plain
from peftstudio.records import DataSettings


def _raises(fn: Callable[[], object]) -> PlainError:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - the failure, as any caller would get it
        return as_plain(exc)
    raise AssertionError("expected a failure")


def tokenizer() -> object:
    from peftstudio.models import load_tokenizer

    return load_tokenizer("builtin:tiny-llama")


# ---------------------------------------------------------------- one raiser per code
def out_of_memory(tmp: Path) -> PlainError:
    import torch

    from peftstudio.engine.session import train_with_memory_retries
    from tests.guards.helpers import config

    def attempt(cfg: object, fresh: bool) -> object:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    # a micro-batch of 1 cannot shrink further: the plain error, with the other ways out
    return _raises(lambda: train_with_memory_retries(attempt, config(micro_batch_size=1)))


def dataset_invalid(tmp: Path) -> PlainError:
    from peftstudio.data import build_datasets

    (tmp / "broken.jsonl").write_text('{"foo": 1}\n{"foo": 2}\n', encoding="utf-8")
    return _raises(lambda: build_datasets(DataSettings(str(tmp / "broken.jsonl")), tokenizer(), 64, 0))


def file_not_found(tmp: Path) -> PlainError:
    from peftstudio.data import build_datasets

    return _raises(lambda: build_datasets(DataSettings(str(tmp / "missing.jsonl")), tokenizer(), 64, 0))


def model_not_found(tmp: Path) -> PlainError:
    from peftstudio.models import resolve_model

    return _raises(lambda: resolve_model("no-such-model-anywhere"))


def model_path_invalid(tmp: Path) -> PlainError:
    from peftstudio.models.references import local_model

    (tmp / "notes").mkdir()
    return _raises(lambda: local_model(str(tmp / "notes")))


def model_offline(tmp: Path) -> PlainError:
    from peftstudio.models import load_tokenizer

    return _raises(lambda: load_tokenizer("meta-llama/Llama-3.1-8B"))  # the tests run with the Hub offline


def model_gated(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> PlainError:
    import huggingface_hub

    from peftstudio.models import model_folder

    class GatedRepoError(Exception):  # the Hub's answer to a gated model (no network here)
        pass

    def refuse(repo_id: str, **_: object) -> str:
        raise GatedRepoError(f"403 Client Error: access to model {repo_id} is restricted")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", refuse)
    return _raises(lambda: model_folder("meta-llama/Llama-3.2-1B-Instruct"))


def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def disk_full(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> PlainError:
    import torch

    from peftstudio.callbacks.checkpoint_io import write_checkpoint

    monkeypatch.setattr(os, "fsync", _enospc)  # the OS boundary: the disk fills up while flushing
    return _raises(lambda: write_checkpoint({"w": torch.ones(3)}, tmp / "ckpt"))


def permission_denied(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> PlainError:
    from peftstudio.store.files import atomic_write_text

    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root ignores permissions: refuse at the OS boundary instead
        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(errno.EACCES, "Permission denied", str(locked / "settings.json"))

        monkeypatch.setattr("tempfile.mkstemp", refuse)
    return _raises(lambda: atomic_write_text(locked / "settings.json", "{}"))


def file_unreadable(tmp: Path) -> PlainError:
    from peftstudio.data import check_file

    (tmp / "a.jsonl").symlink_to(tmp / "b.jsonl")
    (tmp / "b.jsonl").symlink_to(tmp / "a.jsonl")
    return _raises(lambda: check_file(tmp / "a.jsonl"))


def no_gpu(tmp: Path) -> PlainError:
    from peftstudio.errors import make

    # nothing in the engine requires a GPU yet (it trains on the CPU); the entry is built as the app would
    return make("no_gpu", detail="No NVIDIA GPU was found (CUDA is not available).")


def bitsandbytes_missing(tmp: Path) -> PlainError:
    from peftstudio.engine.module import check_quantization

    return _raises(lambda: check_quantization("4bit"))


def tokenizer_mismatch(tmp: Path) -> PlainError:
    import json
    import shutil

    from peftstudio.export.gguf.exporter import check_vocabulary
    from peftstudio.models import model_folder

    folder = tmp / "model"  # a model whose config says 10 tokens, with the tiny tokenizer's 546
    shutil.copytree(model_folder("builtin:tiny-llama"), folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "vocab_size": 10}), encoding="utf-8")
    return _raises(lambda: check_vocabulary(folder))


def nan_loss(tmp: Path) -> PlainError:
    from peftstudio.callbacks.divergence import decide, error_for

    decision = decide([2.1, 2.0, float("nan")], step=3, warmup_steps=0, learning_rate=3e-4)
    return PlainError(error_for(decision, step=3, stable_step=2))  # as the divergence guard stores it


def interrupted_run(tmp: Path) -> PlainError:
    from peftstudio.engine.runs import run_status
    from peftstudio.store import open_store
    from tests.guards.helpers import config

    store = open_store()
    run = store.create_run(config())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_run(run.id, status="running", pid=dead.pid)  # a worker that died without a word
    info = run_status(run.id, store).error
    assert info is not None
    from peftstudio.errors import ErrorInfo
    from peftstudio.records.convert import from_dict

    return PlainError(from_dict(ErrorInfo, info))


def checkpoint_corrupt(tmp: Path) -> PlainError:
    import torch

    from peftstudio.callbacks.checkpoint_io import TENSOR_FILE, read_checkpoint, write_checkpoint

    write_checkpoint({"w": torch.ones(3)}, tmp / "ckpt")
    (tmp / "ckpt" / TENSOR_FILE).write_bytes(b"not a tensor file")
    return _raises(lambda: read_checkpoint(tmp / "ckpt"))


def export_unsupported_architecture(tmp: Path) -> PlainError:
    import json

    from peftstudio.export import converter

    (tmp / "config.json").write_text(json.dumps({"architectures": ["PeftStudioOddModel"]}), encoding="utf-8")
    return _raises(lambda: converter.check_architecture(tmp))


def export_tools_missing(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> PlainError:
    from peftstudio.export import converter

    monkeypatch.setattr(converter, "converter_folder", lambda version: tmp / "no-converter-here")
    return _raises(converter.converter)


def export_failed(tmp: Path) -> PlainError:
    from peftstudio.export import converter

    broken = tmp / "not-a-model"  # a folder without the model's files: the converter stops
    broken.mkdir()
    return _raises(lambda: converter.convert(broken, tmp / "out.gguf"))


def chat_template_untranslatable(tmp: Path) -> PlainError:
    from peftstudio.export.ollama import translate_chat_template

    class NoTemplate:
        chat_template = None

    return _raises(lambda: translate_chat_template(NoTemplate()))


def config_invalid(tmp: Path) -> PlainError:
    from peftstudio.records import RunConfig
    from peftstudio.records.convert import from_dict

    doc = {"profile": "chatbot", "model": {"reference": "builtin:tiny-llama"}, "data": {"path": "a.jsonl"},
           "training": {"learning_rate": "fast"}}
    return _raises(lambda: from_dict(RunConfig, doc))


def newer_format(tmp: Path) -> PlainError:
    from peftstudio.records import RunConfig
    from peftstudio.records.convert import loads

    text = '{"schema_version": 99, "profile": "chatbot", "model": {"reference": "x"}, "data": {"path": "a"}}'
    return _raises(lambda: loads(RunConfig, text))


def run_not_found(tmp: Path) -> PlainError:
    from peftstudio.engine.runs import run_status

    return _raises(lambda: run_status("run-that-never-was"))


def item_not_found(tmp: Path) -> PlainError:
    from peftstudio.history.presets import get_preset

    return _raises(lambda: get_preset("no-such-preset"))


def internal_error(tmp: Path) -> PlainError:
    def buggy() -> None:
        raise RuntimeError("an unexpected bug")

    return _raises(buggy)


def _studio_error(tmp: Path, path: str, headers: dict[str, str], status: int) -> PlainError:
    """The plain error a real studio server (in process) answers with, as a `PlainError`."""
    from starlette.testclient import TestClient

    from peftstudio.errors.plain import ErrorInfo
    from peftstudio.records.convert import from_dict
    from peftstudio.server import ServerSettings, create_app

    settings = ServerSettings.create("127.0.0.1", 8000, data_dirs=[str(tmp)], upload_dir=tmp / "uploads",
                                     failure_delay_s=0.0)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        response = client.get(path, headers=headers)
    assert response.status_code == status, response.text
    error = {k: v for k, v in response.json()["error"].items() if k != "help_url"}
    return PlainError(from_dict(ErrorInfo, error))


def sign_in_needed(tmp: Path) -> PlainError:
    return _studio_error(tmp, "/api/runs", {}, 401)  # no sign-in cookie


def request_refused(tmp: Path) -> PlainError:
    return _studio_error(tmp, "/api/runs", {"host": "evil.example"}, 403)  # DNS rebinding: a foreign Host


def path_not_allowed(tmp: Path) -> PlainError:
    from peftstudio.server import ServerSettings
    from peftstudio.server.datafiles import inside_data_dirs

    settings = ServerSettings.create(data_dirs=[str(tmp / "data")], upload_dir=tmp / "uploads")
    return _raises(lambda: inside_data_dirs(str(tmp / "data" / ".." / "secret.jsonl"), settings))


def upload_too_large(tmp: Path) -> PlainError:
    import asyncio

    from peftstudio.server import ServerSettings
    from peftstudio.server.datafiles import save_upload

    settings = ServerSettings.create(upload_dir=tmp / "uploads", max_upload_bytes=10)

    async def chunks():  # type: ignore[no-untyped-def]
        yield b"x" * 8
        yield b"x" * 8

    err = _raises(lambda: asyncio.run(save_upload(chunks(), "big.jsonl", settings)))
    assert not [p for p in (tmp / "uploads").rglob("*") if p.is_file()]  # nothing left on disk
    return err


RAISERS: dict[str, Callable[..., PlainError]] = {f.__name__: f for f in (
    sign_in_needed, request_refused, path_not_allowed, upload_too_large,
    out_of_memory, dataset_invalid, file_not_found, model_not_found, model_path_invalid, model_offline, model_gated,
    disk_full, permission_denied,
    file_unreadable, no_gpu, bitsandbytes_missing, tokenizer_mismatch, nan_loss, interrupted_run, checkpoint_corrupt,
    export_unsupported_architecture, export_tools_missing, export_failed, chat_template_untranslatable,
    config_invalid, newer_format, run_not_found,
    item_not_found, internal_error)}

# what each message must name (the specifics of this failure) and the fix ids it must offer
EXPECTED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "out_of_memory": (("memory", "micro-batch of 1"), ("halve_batch", "use_4bit", "shorter_sequences")),
    "dataset_invalid": (("broken.jsonl", "no usable examples"), ("skip_broken_rows",)),
    "file_not_found": (("missing.jsonl",), ()),
    "model_not_found": (("no-such-model-anywhere",), ("use_builtin",)),
    "model_gated": (("meta-llama/Llama-3.2-1B-Instruct", "licence"), ("use_builtin",)),
    "model_path_invalid": (("notes", "without config.json"), ("use_builtin",)),
    "model_offline": (("meta-llama/Llama-3.1-8B", "offline"), ("use_builtin",)),
    "disk_full": (("checkpoint is intact",), ("free_space",)),
    "permission_denied": (("locked",), ()),
    "file_unreadable": (("a.jsonl", "loop of links"), ()),
    "no_gpu": (("No NVIDIA GPU", "processor"), ("use_cpu",)),
    "bitsandbytes_missing": (("bitsandbytes",), ("no_quantization",)),
    "tokenizer_mismatch": (("546", "10"), ("use_model_tokenizer",)),
    "nan_loss": (("nan", "step 3"), ("lower_learning_rate", "enable_clipping")),
    "interrupted_run": (("stopped unexpectedly",), ("resume", "restart")),
    "checkpoint_corrupt": (("ckpt", "damaged"), ("resume_previous", "restart")),
    "export_unsupported_architecture": (("PeftStudioOddModel", "Qwen3"), ("export_hf",)),
    "sign_in_needed": (("link", "one-time key"), ()),
    "request_refused": (("refused", "evil.example"), ()),
    "path_not_allowed": (("secret.jsonl", "allowed folders"), ()),
    "upload_too_large": (("too large", "10 B"), ()),
    "export_tools_missing": (("llama.cpp", "not installed"), ("export_hf",)),
    "export_failed": (("converter stopped",), ("export_hf",)),
    "chat_template_untranslatable": (("no chat template",), ("export_gguf",)),
    "config_invalid": (("training.learning_rate",), ("use_defaults",)),
    "newer_format": (("newer",), ()),
    "run_not_found": (("run-that-never-was",), ()),
    "item_not_found": (("no-such-preset",), ()),
    "internal_error": (("RuntimeError", "error-"), ("retry",)),
}


def test_every_catalog_code_has_a_raiser() -> None:
    assert set(RAISERS) == set(CATALOG) == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_catalog_failure_gives_a_plain_message_and_actions(code: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    raiser = RAISERS[code]
    err = raiser(tmp_path, monkeypatch) if raiser.__code__.co_argcount == 2 else raiser(tmp_path)
    info = err.info
    assert info.code == code
    assert info.title and info.explanation and "Traceback" not in err.render()
    assert "{" not in info.explanation and "{" not in info.title  # every template slot was filled
    words, fix_ids = EXPECTED[code]
    text = f"{info.title} {info.explanation}"
    for word in words:
        assert word.lower() in text.lower(), (word, text)
    assert 2 <= len(info.actions) <= 3
    assert all(a.fix_id or a.steps for a in info.actions)  # applied automatically, or steps by hand
    assert set(fix_ids) <= {a.fix_id for a in info.actions}
    assert info.help_url.endswith("#" + code.replace("_", "-"))


def test_unknown_errors_save_the_details_to_a_log_file_not_the_message() -> None:
    err = internal_error(Path("."))
    log = Path(err.info.details["log_path"])
    assert log.is_file() and "Traceback" in log.read_text() and "an unexpected bug" in log.read_text()
    assert "Traceback" not in err.render() and "Get help" in err.render()
