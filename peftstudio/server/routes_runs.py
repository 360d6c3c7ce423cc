"""Runs: list, read, start, pause, resume, fix, and follow live as Server-Sent Events.

The stream sends each update of `peftstudio.runs.follow` as one SSE message whose id is the update's
cursor; a browser that reconnects sends it back as ``Last-Event-ID`` and gets every later update once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from peftstudio import runs
from peftstudio.server.deps import as_json
from peftstudio.server.errors import JSON, dumps
from peftstudio.server.planning import PlanRequest, make_plan

router = APIRouter(prefix="/api/runs", tags=["runs"])

KEEPALIVE_S = 15.0


def run_json(record: runs.RunRecord) -> dict[str, Any]:
    """A run record with its loss zones (decided by the library) for the chart."""
    data: dict[str, Any] = as_json(record)
    zones = runs.run_loss_zones(record.id)
    data["loss_zones"] = as_json(zones) if zones else None
    return data


@router.get("")
def list_runs(status: str | None = None) -> JSON:
    """Every run, newest first (optionally one status)."""
    return JSON({"runs": [as_json(r) for r in runs.list_runs(status)]})


@router.get("/{run_id}")
def get_run(run_id: str) -> JSON:
    """One run: status, config, summary, error, versions, loss zones."""
    from peftstudio.engine.runs import run_status

    run_status(run_id)  # notices a worker that died, so the page sees `failed` rather than `running` forever
    return JSON(run_json(runs.get(run_id)))


class StartRequest(PlanRequest):
    name: str = Field(default="", max_length=200)


@router.post("", status_code=201)
def start(body: StartRequest, request: Request) -> JSON:
    """Plan from the wizard's choices and start the run in its own worker process."""
    from peftstudio.engine.runs import start_run

    p, data_path = make_plan(body, request)
    if data_path is None:
        from peftstudio.errors import make

        raise make("config_invalid", problems="`data`: choose the training data before starting")
    run_id = start_run(p.run_config(str(data_path), name=body.name), name=body.name, worker=_spare(request))
    return JSON(run_json(runs.get(run_id)), status_code=201)


@router.post("/{run_id}/pause")
def pause(run_id: str) -> JSON:
    """Ask the run to pause after its current step (it checkpoints and frees its memory)."""
    from peftstudio.engine.runs import pause_run

    pause_run(run_id, wait=False)
    return JSON(run_json(runs.get(run_id)))


@router.post("/{run_id}/resume")
def resume(run_id: str, request: Request) -> JSON:
    """Continue a paused or failed run from its newest checkpoint, in a new worker."""
    from peftstudio.engine.runs import resume_run

    return JSON(run_json(runs.get(resume_run(run_id, worker=_spare(request)))))


@router.get("/{run_id}/fixes")
def fixes(run_id: str) -> JSON:
    """What can be done about the run's last error."""
    from peftstudio.fixes import list_fixes

    return JSON(as_json(list_fixes(run_id)))


class RunFixRequest(BaseModel):
    fix: str | int = Field(description="a fix id from the run's fixes, or its number")


@router.post("/{run_id}/fixes")
def apply(run_id: str, body: RunFixRequest, request: Request) -> JSON:
    """Apply a fix to the run's settings and resume it where it stopped."""
    from peftstudio.engine.runs import resume_run
    from peftstudio.fixes import apply_fix

    applied = apply_fix(run_id, body.fix, start=False)
    resume_run(applied.run_id, worker=_spare(request))
    return JSON({"applied": as_json(applied), "run": run_json(runs.get(applied.run_id))})


def _spare(request: Request) -> Any:
    """The studio's waiting worker, if it keeps one (`ServerSettings.spare_worker`), for the run starting now."""
    spare = getattr(request.app.state, "spare_worker", None)
    return spare.take() if spare is not None else None


def _message(update: runs.Update) -> str:
    kind = {runs.MetricUpdate: "metric", runs.EventUpdate: "event", runs.ReadingUpdate: "reading",
            runs.StatusUpdate: "status"}[type(update)]
    data = as_json(update)
    data.pop("cursor", None)
    if isinstance(update, runs.StatusUpdate):
        data["run"] = run_json(update.run)
    return f"id: {update.cursor}\nevent: {kind}\ndata: {dumps(data)}\n\n"


@router.get("/{run_id}/stream", response_class=StreamingResponse)
async def stream(run_id: str, request: Request, last_event_id: str | None = Header(default=None),
                 since: str | None = None, poll_s: float = 0.5) -> StreamingResponse:
    """The run's updates as Server-Sent Events (``metric``, ``event``, ``reading``, ``status``, then ``end``).

    Resumes after ``Last-Event-ID`` (or ``?since=``): every update once, in order.
    """
    from peftstudio.engine.runs import run_status

    position = last_event_id or since
    cursor = runs.Cursor.parse(position) if position else runs.Cursor()  # a bad one: a plain 422 here
    await run_in_threadpool(run_status, run_id)
    record = await run_in_threadpool(runs.get, run_id)
    poll = min(max(poll_s, 0.05), 5.0)

    async def events() -> AsyncIterator[str]:
        cur = cursor
        yield "retry: 1000\n\n"
        quiet = 0.0
        while True:
            batch = await run_in_threadpool(runs.updates_since, record.id, cur)
            for update in batch:
                cur = update.cursor
                yield _message(update)
            if cur.status in runs.FINAL_STATUSES:
                yield f"id: {cur}\nevent: end\ndata: {dumps({'status': cur.status})}\n\n"
                return
            if await request.is_disconnected():
                return
            if not batch:
                await asyncio.sleep(poll)
                quiet += poll
                if quiet >= KEEPALIVE_S:
                    quiet = 0.0
                    yield ": still here\n\n"
                # a worker that died leaves its run `running`: noticing it turns the run `failed`
                await run_in_threadpool(run_status, record.id)
            else:
                quiet = 0.0

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})


__all__ = ["router", "run_json"]
