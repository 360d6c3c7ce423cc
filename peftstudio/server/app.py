"""The studio's FastAPI application: the routers, the guard in front, plain JSON errors, the page.

Example:
    >>> from peftstudio.server import ServerSettings, create_app
    >>> app = create_app(ServerSettings.create(port=8765))
    >>> sorted(p for p in app.openapi()["paths"] if p.startswith("/api/runs"))[:2]
    ['/api/runs', '/api/runs/{run_id}']
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peftstudio.errors import PlainError, make
from peftstudio.server import (
    planning,
    routes_compare,
    routes_data,
    routes_presets,
    routes_reference,
    routes_runs,
    routes_versions,
)
from peftstudio.server.errors import error_response, plain_response
from peftstudio.server.security import Guard
from peftstudio.server.settings import ServerSettings

#: the page shown when the front end was not built (a source checkout before `make setup`)
NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>PEFT Studio</title>
<body style="font-family:system-ui;max-width:40em;margin:4em auto;line-height:1.5">
<h1>PEFT Studio</h1><p>The server runs, but the page was not built. Run <code>make setup</code> in the
source checkout (it builds <code>web/</code> into <code>peftstudio/server/static/</code>), then start again.
The API answers under <code>/api/</code>.</p></body></html>"""


def _problems(exc: RequestValidationError) -> str:
    """Pydantic's errors as "`field`: what is wrong" sentences (never the input echoed back in full)."""
    out = []
    for e in exc.errors()[:10]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        out.append(f"`{where or 'request'}`: {e.get('msg', 'not valid')}")
    return "; ".join(out) or "the request is not valid"


def create_app(settings: ServerSettings) -> FastAPI:
    """The studio app for `settings`; serve it with uvicorn (see `peftstudio.server.serve`)."""
    app = FastAPI(title="PEFT Studio", version=_version(), docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json", lifespan=_lifespan)
    app.state.settings = settings
    app.state.hardware = None
    for module in (routes_runs, planning, routes_data, routes_reference, routes_versions):
        app.include_router(module.router)
    app.include_router(routes_presets.router)
    app.include_router(routes_compare.router)
    from peftstudio.server import routes_export, routes_playground  # issue 19's screens, each its own router

    app.include_router(routes_playground.router)
    app.include_router(routes_export.router)

    @app.exception_handler(PlainError)
    async def plain(_: Request, exc: PlainError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        return error_response(make("config_invalid", problems=_problems(exc)))

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(make("item_not_found", kind="page", name=request.url.path, command="help"))
        if exc.status_code == 405:
            return error_response(make("request_refused", reason=f"{request.method} is not allowed here"), 405)
        return error_response(make("config_invalid", problems=str(exc.detail)), exc.status_code)

    _page(app, Path(settings.static_dir))
    app.add_middleware(PlainFailures)
    app.add_middleware(Guard, settings=settings)  # added last: outermost, before anything else runs
    return app


class PlainFailures:
    """Any unexpected exception becomes a plain 500 (its traceback goes to a log file) and goes no further, so
    the connection stays open and the server keeps serving."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a plain error
            if scope["type"] != "http" or started:
                plain_response(exc)  # logged; the response is already on its way and cannot change
                return
            await plain_response(exc)(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On this person's own desktop, the library's desktop notifications follow the runs while serving; with
    `ServerSettings.spare_worker` a worker waits, libraries loaded, for the next run (`engine.runs.SpareWorker`)."""
    settings: ServerSettings = app.state.settings
    notices = None
    if settings.desktop_notices and settings.own_desktop:
        from peftstudio.server.desktop import DesktopNotices

        notices = DesktopNotices().start()
    app.state.desktop_notices = notices
    spare = None
    if settings.spare_worker:
        from peftstudio.engine.runs import SpareWorker

        spare = SpareWorker()  # runs start and resume in a worker that has loaded its libraries already
    app.state.spare_worker = spare
    try:
        yield
    finally:
        if notices is not None:
            notices.close()
        if spare is not None:
            spare.close()


def _page(app: FastAPI, static: Path) -> None:
    """The built front end: its assets, and index.html for every other path (the page routes itself)."""
    index = static / "index.html"
    if (static / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=static / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def page(path: str) -> Response:
        if path.startswith("api/"):
            raise make("item_not_found", kind="page", name=f"/{path}", command="help")
        extra = static / path
        if path and extra.is_file() and extra.resolve().is_relative_to(static.resolve()) and path.count("/") == 0:
            return FileResponse(extra)  # favicon, manifest: files at the top of the build
        if index.is_file():
            return FileResponse(index, headers={"cache-control": "no-store"})
        return HTMLResponse(NOT_BUILT)


def _version() -> str:
    import peftstudio

    return peftstudio.__version__
