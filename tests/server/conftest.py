"""A real studio server (uvicorn on a free loopback port, in a thread) per test, and signed-in clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from peftstudio.server import ServerSettings, create_app
from peftstudio.server.run import bind

LOGIN = "login-token-for-tests"
SESSION = "session-key-for-tests"


@attrs.define
class Studio:
    url: str
    settings: ServerSettings
    data_dir: Path
    upload_dir: Path

    def client(self, *, signed_in: bool = True, **kwargs: object) -> httpx.Client:
        cookies = {"peftstudio_session": SESSION} if signed_in else None
        return httpx.Client(base_url=self.url, cookies=cookies, timeout=60, **kwargs)  # type: ignore[arg-type]


def start_server(settings: ServerSettings) -> tuple[str, ServerSettings, object, threading.Thread]:
    import uvicorn

    sock = bind(settings.host, 0)
    settings = attrs.evolve(settings, port=sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                                          timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return f"http://127.0.0.1:{settings.port}", settings, server, thread


def stop_workers() -> None:
    """End the worker processes the test's runs left (a failed test must not leave training behind)."""
    import os
    import signal

    from peftstudio.engine.runs import is_worker_alive
    from peftstudio.store import open_store

    for run in open_store().list_runs():
        if run.pid and is_worker_alive(run.pid):
            os.kill(run.pid, signal.SIGKILL)


def serving(settings: ServerSettings, data_dir: Path, upload_dir: Path) -> Iterator[Studio]:
    """A fixture's body: the studio served with `settings` while the test runs, then stopped with the
    workers its runs left."""
    url, settings, server, thread = start_server(settings)
    yield Studio(url, settings, data_dir, upload_dir)
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
    stop_workers()


def local_studio(tmp_path: Path, **options: Any) -> Iterator[Studio]:
    """A studio on 127.0.0.1 serving a data folder and an upload folder under `tmp_path`, signed in with the
    test tokens; `options` go to `ServerSettings.create` (e.g. ``max_upload_bytes``)."""
    data_dir, upload_dir = tmp_path / "data", tmp_path / "uploads"
    data_dir.mkdir()
    settings = ServerSettings.create("127.0.0.1", 0, data_dirs=[str(data_dir)], upload_dir=upload_dir,
                                     login_token=LOGIN, session_key=SESSION, failure_delay_s=0.0,
                                     **options)
    yield from serving(settings, data_dir, upload_dir)


@pytest.fixture
def studio(tmp_path: Path, fresh_home: Path) -> Iterator[Studio]:
    yield from local_studio(tmp_path, max_upload_bytes=200_000)


@pytest.fixture
def client(studio: Studio) -> Iterator[httpx.Client]:
    with studio.client() as c:
        yield c
