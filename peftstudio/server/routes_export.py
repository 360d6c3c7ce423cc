"""Exports from the studio: a run's (or a version's) tuned model as a Hugging Face folder, a GGUF file, an Ollama
or LM Studio package, or the adapter alone; the quantization choice with estimated sizes; progress; the Test
Export verdict; the files downloadable through the browser; the folder opened on this computer.

Each export runs in a thread of the server and writes into its own folder, ``<home>/exports/<id>/``, with the
record of what it wrote (``export.json``, written atomically). A download serves only a file that record
lists, found again inside that folder: no other path of the machine can be asked for.
"""

from __future__ import annotations

import re
import secrets
import threading
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import FileResponse

from peftstudio.errors import make
from peftstudio.server.deps import as_json, settings_of
from peftstudio.server.errors import JSON

router = APIRouter(prefix="/api/exports", tags=["export"])

KINDS = {
    "hf": ("Hugging Face", "A folder of safetensors, the tokenizer and a model card, for transformers or the Hub."),
    "gguf": ("GGUF", "One file for llama.cpp and the apps built on it."),
    "ollama": ("Ollama", "A GGUF file and its Modelfile (chat template, settings), ready for `ollama create`."),
    "lmstudio": ("LM Studio", "A GGUF file in LM Studio's folder layout, ready for `lms import`."),
}
_ID = re.compile(r"^[0-9a-f]{16}$")
_jobs: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def exports_root() -> Path:
    from peftstudio.paths import home

    return home() / "exports"


def _source(ref: str) -> Any:
    from peftstudio.export import ExportSource
    from peftstudio.playground import resolve_tuned

    tuned = resolve_tuned(ref)
    return ExportSource(tuned.base_reference, str(tuned.adapter_dir)), tuned


@router.get("/options")
def options(request: Request, ref: str = Query(max_length=200)) -> JSON:
    """What can be exported for `ref`: the kinds, each quantization type with its estimated size, the size of
    the adapter alone, and whether the folder can be opened here (the server runs on this computer)."""
    from peftstudio.export.gguf.exporter import adapter_gguf_size, gguf_size
    from peftstudio.export.records import DEFAULT_QUANT, QUANTS

    source, tuned = _source(ref)
    return JSON({"ref": ref, "model": tuned.base_reference, "run_id": tuned.run_id, "version_id": tuned.version_id,
                 "kinds": [{"kind": k, "title": t, "about": a} for k, (t, a) in KINDS.items()],
                 "quants": [{"name": q.name, "tradeoff": q.tradeoff, "bits_per_weight": q.bits_per_weight,
                             "size_bytes": gguf_size(source, q.name)} for q in QUANTS.values()],
                 "default_quant": DEFAULT_QUANT, "adapter_size_bytes": adapter_gguf_size(source),
                 "hf_size_bytes": gguf_size(source, "f16"), "local": settings_of(request).own_desktop})


class ExportRequest(BaseModel):
    ref: str = Field(min_length=1, max_length=200, description="a run id or a model version")
    kind: Literal["hf", "gguf", "ollama", "lmstudio"]
    quant: str | None = Field(default=None, max_length=20, description="GGUF types only; default q4_k_m")
    adapter_only: bool = False
    test: bool = True
    name: str | None = Field(default=None, max_length=100)


def _job_json(eid: str, job: dict[str, Any]) -> dict[str, Any]:
    from peftstudio.export import export_commands
    from peftstudio.export.records import ExportResult
    from peftstudio.records.convert import from_dict

    out = {"id": eid, **{k: v for k, v in job.items() if k != "sizes"}}
    if job.get("result"):
        result = from_dict(ExportResult, job["result"])
        out["commands"] = list(export_commands(result))
        out["file_sizes"] = job.get("sizes", {})
    return out


@router.post("", status_code=202)
def start(body: ExportRequest, request: Request) -> JSON:
    """Start an export (and its Test Export); follow it with ``GET /api/exports/{id}``."""
    from peftstudio.export import export, verify_export
    from peftstudio.export.records import GGUF_QUANTS

    if body.quant is not None and (body.kind == "hf" or body.quant not in GGUF_QUANTS):
        allowed = "none (a Hugging Face folder keeps its weights)" if body.kind == "hf" else ", ".join(GGUF_QUANTS)
        raise make("config_invalid", problems=f"`quant`: expected {allowed}, got {body.quant!r}")
    if body.adapter_only and body.kind == "lmstudio":
        raise make("config_invalid", problems="`adapter_only`: LM Studio loads whole models only; choose GGUF or "
                                              "Ollama for the adapter alone")
    source, _ = _source(body.ref)
    if body.name:
        import attrs

        source = attrs.evolve(source, name=body.name)
    opts: dict[str, Any] = {"merged": not body.adapter_only} if body.kind == "hf" else {"quant": body.quant}
    if body.adapter_only and body.kind in ("gguf", "ollama"):
        opts["adapter_only"] = True
    min_top1 = dict(settings_of(request).export_min_top1)
    eid = secrets.token_hex(8)
    folder = exports_root() / eid
    job: dict[str, Any] = {"status": "running", "kind": body.kind, "ref": body.ref, "created": _now(),
                           "progress": {"stage": "starting", "done": 0, "total": 0, "message": "Starting", "fraction": 0},
                           "result": None, "error": None}
    with _lock:
        _jobs[eid] = job

    def progress(p: Any) -> None:
        job["progress"] = {**as_json(p), "fraction": p.fraction}

    def work() -> None:
        import attrs

        try:
            folder.mkdir(parents=True)
            result = export(body.kind, source, folder / _slug(source.display_name), progress=progress, **opts)
            if body.test:
                result = attrs.evolve(result, test=verify_export(result, source, progress=progress,
                                                                 min_top1=min_top1 or None))
            job["sizes"] = {f: (Path(result.path) / f).stat().st_size for f in result.files
                            if (Path(result.path) / f).is_file()}
            job["result"] = as_json(result)
            job["status"] = "done"
            _save(folder, job)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a plain error on the job
            from peftstudio.errors import as_plain

            err = as_plain(exc)
            job["error"] = {**as_json(err.info), "help_url": err.info.help_url}
            job["status"] = "failed"

    threading.Thread(target=work, name=f"export-{eid}", daemon=True).start()
    return JSON(_job_json(eid, job), status_code=202)


def _now() -> float:
    import time

    return time.time()


def _slug(name: str) -> str:
    from peftstudio.export.gguf.exporter import slug

    return slug(name) or "model"


def _save(folder: Path, job: dict[str, Any]) -> None:
    from peftstudio.files import atomic_write_text
    from peftstudio.server.errors import dumps

    atomic_write_text(folder / "export.json", dumps(job) + "\n")


def _job(eid: str) -> dict[str, Any]:
    """A running export, or a finished one read back from its folder; a plain 404 for anything else."""
    import json

    if not _ID.match(eid):
        raise make("item_not_found", kind="export", name=eid[:40], command="export")
    if eid in _jobs:
        return _jobs[eid]
    record = exports_root() / eid / "export.json"
    if not record.is_file():
        raise make("item_not_found", kind="export", name=eid, command="export")
    job: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
    return job


@router.get("/{eid}")
def status(eid: str) -> JSON:
    """An export: running with its progress, done with its result (files and sizes, the Test Export verdict
    with its checks and sample answer, notes, the commands for Ollama or LM Studio), or failed with its error."""
    return JSON(_job_json(eid, _job(eid)))


def _file(eid: str, name: str) -> Path:
    job = _job(eid)
    result = job.get("result") or {}
    if name not in (result.get("files") or ()):
        raise make("item_not_found", kind="file of this export", name=name[:200], command="export")
    base = Path(result["path"]).resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base) or not path.is_relative_to((exports_root() / eid).resolve()) \
            or not path.is_file():
        raise make("item_not_found", kind="file of this export", name=name[:200], command="export")
    return path


@router.get("/{eid}/files/{name:path}", response_class=FileResponse)
def download(eid: str, name: str) -> FileResponse:
    """One file the export wrote (as listed in its result), as a download."""
    path = _file(eid, name)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream",
                        content_disposition_type="attachment")


@router.post("/{eid}/open")
def open_folder(eid: str, request: Request) -> JSON:
    """Open the export's folder in this computer's file manager (only when the studio runs on this computer)."""
    import shutil
    import subprocess
    import sys

    job = _job(eid)
    if not settings_of(request).own_desktop:
        raise make("request_refused", reason="the studio runs on another computer: download the files instead")
    if not job.get("result"):
        raise make("config_invalid", problems="the export has not finished yet")
    folder = job["result"]["path"]
    opener = {"darwin": ["open"], "win32": ["explorer"]}.get(sys.platform) or (
        ["xdg-open"] if shutil.which("xdg-open") else None)
    if opener is None:
        raise make("config_invalid", problems=f"no file manager to open here; the files are in {folder}")
    subprocess.Popen([*opener, folder], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    return JSON({"opened": folder})


__all__ = ["exports_root", "router"]
