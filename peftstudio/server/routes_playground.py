"""The playground: a run's (or a version's) tuned model and its base answer the same prompt side by side,
streamed as Server-Sent Events while they generate, stopped on request; example prompts; the saved
conversations, searchable. All through `peftstudio.playground`.

One model is kept loaded per server (the last one asked); a prompt for another run loads that one instead.
The answer streams over the POST that asks it (the page reads it with fetch): ``start`` with the
generation's id (for Stop), ``token`` pieces, each finished ``answer``, then ``done`` with the saved
exchange, or ``error`` with a plain error. A client that goes away stops its generation too.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from peftstudio.errors import make
from peftstudio.server.deps import as_json
from peftstudio.server.errors import JSON, dumps, plain_response

router = APIRouter(prefix="/api/playground", tags=["playground"])

_load_lock = threading.Lock()
_generations: dict[str, threading.Event] = {}  # running generations' stop events, by id


class AskSettings(BaseModel):
    """How answers are sampled (the page's Advanced settings); omitted: the run's profile's defaults."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float = Field(default=0.9, gt=0, le=1)
    max_new_tokens: int = Field(default=128, ge=1, le=2048)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    system_prompt: str = Field(default="", max_length=4000)


class AskRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=20_000)
    compare_base: bool = True
    settings: AskSettings = Field(default_factory=AskSettings)


def _session(request: Request, ref: str) -> Any:
    """The loaded playground for `ref` (loading it, and letting the previous one go, when it is another)."""
    from peftstudio.playground import open_playground, resolve_tuned

    tuned = resolve_tuned(ref)  # a plain error for an unknown or unfinished run, before anything loads
    key = f"{tuned.run_id}:{tuned.version_id}"
    with _load_lock:
        held = getattr(request.app.state, "playground", None)
        if held is None or held[0] != key:
            request.app.state.playground = None  # the old model can be freed while the new one loads
            request.app.state.playground = (key, open_playground(ref))
        return request.app.state.playground[1]


@router.get("/{ref}")
def about(ref: str) -> JSON:
    """What the playground shows before asking: the model, chat or completion, example prompts (the
    profile's and the run's own held-out questions) and the default generation settings."""
    from peftstudio.planner.profiles import get_profile
    from peftstudio.playground import is_completion_run, resolve_tuned, run_example_prompts

    tuned = resolve_tuned(ref)
    try:
        temperature = get_profile(tuned.config.profile).playground_temperature
    except Exception:  # noqa: BLE001 - a profile this version does not know: the general default
        temperature = 0.7
    return JSON({"ref": ref, "run_id": tuned.run_id, "version_id": tuned.version_id, "model": tuned.base_reference,
                 "profile": tuned.config.profile, "completion": is_completion_run(tuned.config),
                 "examples": run_example_prompts(tuned.config),
                 "settings": {"temperature": temperature, "top_p": 0.9, "max_new_tokens": 128, "seed": 0,
                              "system_prompt": ""}})


@router.get("/{ref}/history")
def history(ref: str, q: str = Query(default="", max_length=500)) -> JSON:
    """The run's saved exchanges, newest first; with `q`, those whose prompt or answers contain it."""
    from peftstudio.playground import resolve_tuned, search_history

    tuned = resolve_tuned(ref)
    return JSON({"exchanges": [as_json(e) for e in search_history(tuned.run_id, q)] if tuned.run_id else []})


@router.post("/generations/{generation}/stop")
def stop(generation: str) -> JSON:
    """Stop a generation that is streaming (the answer so far is kept and saved)."""
    event = _generations.get(generation)
    if event is None:
        raise make("item_not_found", kind="generation", name=generation[:40], command="runs")
    event.set()
    return JSON({"stopped": generation})


@router.post("/{ref}/ask", response_class=StreamingResponse)
async def ask(ref: str, body: AskRequest, request: Request) -> StreamingResponse:
    """Ask the tuned model (and, with `compare_base`, the base model) `prompt`: Server-Sent Events ``start``
    ``{id}``, ``token`` ``{which, text}``, ``answer``, then ``done`` with the saved exchange (or ``error``)."""
    from peftstudio.playground import GenerationSettings

    session = await run_in_threadpool(_session, request, ref)  # plain errors as JSON, before the stream
    defaults = session.default_settings()
    s = body.settings
    settings = GenerationSettings(temperature=defaults.temperature if s.temperature is None else s.temperature,
                                  top_p=s.top_p, max_new_tokens=s.max_new_tokens, seed=s.seed,
                                  system_prompt=s.system_prompt)
    gid = secrets.token_urlsafe(12)
    cancel = threading.Event()
    _generations[gid] = cancel
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(kind: str, data: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (kind, data))

    def work() -> None:
        try:
            exchange = session.compare(body.prompt, settings, compare_base=body.compare_base, cancel=cancel,
                                       on_token=lambda which, text: put("token", {"which": which, "text": text}),
                                       on_answer=lambda a: put("answer", as_json(a)))
            put("done", as_json(exchange))
        except Exception as exc:  # noqa: BLE001 - a failure mid-stream: sent as a plain error (unknown ones logged)
            put("error", json.loads(bytes(plain_response(exc).body)))
        finally:
            put("end", None)

    threading.Thread(target=work, name=f"playground-{gid}", daemon=True).start()

    async def events() -> AsyncIterator[str]:
        try:
            yield f"event: start\ndata: {dumps({'id': gid, 'completion': session.completion})}\n\n"
            while True:
                try:
                    kind, data = await asyncio.wait_for(queue.get(), timeout=1.0)
                except TimeoutError:
                    if await request.is_disconnected():
                        cancel.set()  # nobody reads it any more
                    continue
                if kind == "end":
                    return
                yield f"event: {kind}\ndata: {dumps(data)}\n\n"
        finally:
            cancel.set()
            _generations.pop(gid, None)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})


__all__ = ["router"]
