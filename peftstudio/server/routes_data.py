"""Training data: upload (streamed, size-limited), samples and allowed folders, check, preview, fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from peftstudio.server.datafiles import list_data_dir_files, resolve, safe_name, save_upload
from peftstudio.server.deps import as_json, settings_of
from peftstudio.server.errors import JSON

router = APIRouter(prefix="/api/data", tags=["data"])


@router.get("/files")
def files(request: Request) -> JSON:
    """The bundled samples and the data files in the folders named at start."""
    from peftstudio.data import SAMPLES

    settings = settings_of(request)
    return JSON({"samples": [{"ref": f"sample:{s}", "name": s} for s in SAMPLES],
                 "files": list_data_dir_files(settings), "folders": list(settings.data_dirs),
                 "max_upload_bytes": settings.max_upload_bytes})


@router.post("/uploads", status_code=201)
async def upload(request: Request, name: str = Query(min_length=1, max_length=255)) -> JSON:
    """Upload a data file as the request body (any format the data check reads); streamed to disk.

    Example: ``curl --data-binary @chat.jsonl -b cookies 'http://127.0.0.1:PORT/api/data/uploads?name=chat.jsonl'``
    """
    length = request.headers.get("content-length")
    declared = int(length) if length and length.isdigit() else None
    saved = await save_upload(request.stream(), name, settings_of(request), declared)
    return JSON(saved, status_code=201)


class CheckRequest(BaseModel):
    data: str = Field(max_length=4096)
    profile: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=1000, description="count tokens with its tokenizer")
    max_tokens: int | None = Field(default=None, gt=0, le=1_000_000)
    preview_rows: int = Field(default=3, ge=0, le=50)


def _tokenizer(model: str | None) -> Any:
    from peftstudio.data.planning import tokenizer_or_none

    return tokenizer_or_none(model)


def _check(path: Path, body: CheckRequest, ref: str) -> dict[str, Any]:
    from peftstudio.data import check_file, preview

    tokenizer = _tokenizer(body.model)
    report = check_file(path, profile=body.profile, tokenizer=tokenizer, max_tokens=body.max_tokens)
    shown = preview(path, tokenizer, n=body.preview_rows) if report.rows and body.preview_rows else None
    out = {"ref": ref, "name": path.name, "report": as_json(report), "ok": report.ok,
           "fix_ids": list(report.fix_ids), "preview": as_json(shown) if shown else None}
    out["report"]["path"] = path.name  # the page needs no server path
    return out


@router.post("/check")
def check(body: CheckRequest, request: Request) -> JSON:
    """The data check (format, structure, statistics, findings with rows and fixes) and a preview as the
    model sees it (trained parts marked)."""
    return JSON(_check(resolve(body.data, settings_of(request)), body, body.data))


class DataFixRequest(CheckRequest):
    fixes: list[str] = Field(min_length=1, max_length=20, description="fix ids or finding codes")


@router.post("/fix")
def fix(body: DataFixRequest, request: Request) -> JSON:
    """Write a cleaned copy (the original is kept) as a new upload, and check it again."""
    import secrets

    from peftstudio.data import apply_fixes

    settings = settings_of(request)
    source = resolve(body.data, settings)
    upload_id = secrets.token_urlsafe(12)
    folder = Path(settings.upload_dir) / upload_id
    folder.mkdir(parents=True)
    stem = source.stem.removesuffix("-cleaned")
    suffix = source.suffix if source.suffix.lower() in (".jsonl", ".csv", ".tsv", ".json") else ".jsonl"
    out = folder / safe_name(f"{stem}-cleaned{suffix}")
    result = apply_fixes(source, body.fixes, out, tokenizer=_tokenizer(body.model), max_tokens=body.max_tokens,
                         profile=body.profile)
    ref = f"upload:{upload_id}/{out.name}"
    fixed = as_json(result)
    for key in ("out_path", "report_path", "source_path", "path"):
        fixed.pop(key, None)
    return JSON({"fix": fixed, **_check(out, body, ref)})
