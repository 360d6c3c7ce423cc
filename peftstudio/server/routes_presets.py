"""Presets: the library (search and filters), save from the wizard or from a finished run, open one in the
wizard, download one as a shareable JSON file, and import a file: first checked and adjusted for this machine
without storing anything (`check_import`), then stored once the person agrees. All through
`peftstudio.history.presets`; a broken or hostile file is a plain error and changes nothing."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from peftstudio.errors import make
from peftstudio.server.deps import as_json, hardware_of, settings_of
from peftstudio.server.errors import JSON
from peftstudio.server.planning import PlanRequest, make_plan
from peftstudio.server.wizardform import wizard_form

router = APIRouter(prefix="/api/presets", tags=["presets"])

NAME = Query(min_length=1, max_length=200)


class PresetRequest(PlanRequest):
    name: str = Field(min_length=1, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=20)
    notes: str = Field(default="", max_length=5000)
    replace: bool = False


class RunPresetRequest(BaseModel):
    """Save a finished run's configuration as a preset."""

    run_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=20)
    notes: str = Field(default="", max_length=5000)
    replace: bool = False



def _import_view(result: Any) -> dict[str, Any]:
    from peftstudio.settings import name_at

    return {"preset": as_json(result.preset), "replaced": result.replaced, "notes": list(result.notes),
            "adjustments": [{**as_json(a), "label": name_at(a.setting)} for a in result.adjustments]}


async def _file_body(request: Request) -> bytes:
    """The request body, read no further than a preset may be (refused past it with nothing kept)."""
    from peftstudio.history.presets import MAX_PRESET_BYTES
    from peftstudio.units import human_bytes

    too_big = make("config_invalid", problems=f"the file is more than the {human_bytes(MAX_PRESET_BYTES)} a preset "
                                              "may be; a real preset is a few KB")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_PRESET_BYTES:
        raise too_big
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_PRESET_BYTES:
            raise too_big
    if not data:
        raise make("config_invalid", problems="the file is empty: choose a preset file (.json)")
    return bytes(data)


@router.get("")
def library(search: str | None = Query(default=None, max_length=200), profile: str | None = Query(default=None, max_length=100),
            model: str | None = Query(default=None, max_length=1000), tag: str | None = Query(default=None, max_length=100)) -> JSON:
    """The saved presets, most recently changed first, matching the search and filters; every use case, model
    and tag in the library (the filters' choices); the largest file an import takes."""
    from peftstudio.history.presets import MAX_PRESET_BYTES, list_presets

    everything = list_presets()
    shown = list_presets(search=search, profile=profile, model=model, tag=tag)
    return JSON({"presets": [as_json(p) for p in shown],
                 "filters": {"profiles": sorted({p.profile for p in everything}),
                             "models": sorted({p.model for p in everything}),
                             "tags": sorted({t for p in everything for t in p.tags}, key=str.casefold)},
                 "max_file_bytes": MAX_PRESET_BYTES})


@router.post("", status_code=201)
def save(body: PresetRequest, request: Request) -> JSON:
    """Save the wizard's plan as a preset."""
    from peftstudio.history.presets import save_preset

    p, path = make_plan(body, request)
    preset = save_preset(body.name, p.run_config(str(path) if path else ""), tags=body.tags, notes=body.notes,
                         replace=body.replace)
    return JSON(as_json(preset), status_code=201)


@router.post("/from-run", status_code=201)
def save_run(body: RunPresetRequest) -> JSON:
    """Save a finished run's configuration as a preset (its data fingerprinted when the file is still here)."""
    from peftstudio import runs
    from peftstudio.history.presets import save_preset

    run = runs.get(body.run_id)
    if run.status != "completed":
        raise make("config_invalid", problems=f"`run_id`: the run {run.name!r} is {run.status}; only a finished run's "
                                              "settings are saved as a preset")
    preset = save_preset(body.name, run.config, tags=body.tags, notes=body.notes, replace=body.replace)
    return JSON(as_json(preset), status_code=201)


@router.get("/one")
def one(request: Request, name: str = NAME) -> JSON:
    """One preset, and its settings as the wizard's choices (to open the wizard filled in)."""
    from peftstudio.history.presets import get_preset

    preset = get_preset(name)
    return JSON({"preset": as_json(preset), "wizard": {**wizard_form(preset.config, settings_of(request)),
                                                       "name": preset.name}})


@router.get("/download")
def download(name: str = NAME) -> Response:
    """The preset as a shareable JSON file (a download; a model folder of this machine shortened to its name)."""
    from peftstudio.history.presets import get_preset, portable, preset_json

    preset, _ = portable(get_preset(name))
    # the name as the file's name: plain letters for old browsers, the whole name (unsafe characters out) for others
    ascii_name = (re.sub(r"[^A-Za-z0-9._-]+", "-", preset.name).strip("-.") or "preset") + ".preset.json"
    full = (re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "-", preset.name).strip(" -.") or "preset") + ".preset.json"
    return Response(preset_json(preset), media_type="application/json",
                    headers={"content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(full)}",
                             "cache-control": "no-store", "x-content-type-options": "nosniff"})


@router.delete("")
def delete(name: str = NAME) -> JSON:
    """Remove a preset from the library."""
    from peftstudio.history.presets import delete_preset

    delete_preset(name)
    return JSON({"deleted": name})


@router.post("/import/check")
async def import_check(request: Request, name: str | None = Query(default=None, min_length=1, max_length=200)) -> JSON:
    """A preset file (the request body) checked completely and adjusted for this machine, each change with its
    reason; nothing is stored. ``replaced``: a preset of that name exists and importing would replace it."""
    from starlette.concurrency import run_in_threadpool

    from peftstudio.history.presets import check_import

    data = await _file_body(request)
    hw = hardware_of(request)
    result = await run_in_threadpool(check_import, data, name=name, hardware=hw)
    return JSON(_import_view(result))


@router.post("/import", status_code=201)
async def import_file(request: Request, name: str | None = Query(default=None, min_length=1, max_length=200),
                      replace: bool = False) -> JSON:
    """Import a preset file (the request body): checked again, adjusted for this machine, then stored."""
    from starlette.concurrency import run_in_threadpool

    from peftstudio.history.presets import import_preset

    data = await _file_body(request)
    hw = hardware_of(request)
    result = await run_in_threadpool(import_preset, data, name=name, replace=replace, hardware=hw)
    return JSON(_import_view(result), status_code=201)


__all__ = ["PresetRequest", "RunPresetRequest", "router"]
