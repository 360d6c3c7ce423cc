"""Serve the studio with uvicorn on a socket bound here (port 0 picks a free one), optionally opening it.

Example (not run here: it serves until stopped):
    >>> from peftstudio.server import ServerSettings, serve  # doctest: +SKIP
    >>> serve(ServerSettings.create(port=0), open_browser=True)  # doctest: +SKIP
"""

from __future__ import annotations

import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any

import attrs

from peftstudio.server.settings import ServerSettings


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: a free port chosen by the system)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def window_toolkit() -> Any | None:
    """pywebview's module when the `desktop` extra is installed (``pip install peftstudio[desktop]``), else None.

    Example:
        >>> window_toolkit() is None or hasattr(window_toolkit(), "create_window")
        True
    """
    try:
        import webview  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return webview


def _local_url(settings: ServerSettings) -> str:
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "127.0.0.1") else None
    return settings.url_with_token(local)


def serve(settings: ServerSettings, *, open_browser: bool = False, window: bool = False,
          on_ready: Callable[[ServerSettings], None] | None = None, log_level: str = "warning") -> None:
    """Serve until Ctrl-C (running trainings go on in their own processes and are found again later).

    With `window` and pywebview installed, the studio opens in a native window instead of the browser, and
    closing that window stops the server (trainings go on). Without pywebview `window` falls back to the
    browser (`open_browser`).
    """
    import uvicorn

    from peftstudio.server.app import create_app

    sock = bind(settings.host, settings.port)
    settings = attrs.evolve(settings, port=sock.getsockname()[1])
    config = uvicorn.Config(create_app(settings), log_level=log_level, access_log=False,
                            timeout_graceful_shutdown=2, server_header=False)
    server = uvicorn.Server(config)
    toolkit = window_toolkit() if window else None
    if toolkit is not None:
        _serve_in_window(server, sock, settings, toolkit, on_ready)
        return

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if server.started:
            if on_ready is not None:
                on_ready(settings)
            if open_browser or window:
                webbrowser.open(_local_url(settings))

    threading.Thread(target=announce, daemon=True, name="studio-ready").start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down cleanly and passes the Ctrl-C on: the normal way to stop
        pass


def _serve_in_window(server: Any, sock: socket.socket, settings: ServerSettings, toolkit: Any,
                     on_ready: Callable[[ServerSettings], None] | None) -> None:
    """The server in a thread, the native window on this (main) thread, as GUI toolkits require; closing the
    window (or Ctrl-C) stops the server."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="studio-server")
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                return
            time.sleep(0.02)
        if on_ready is not None:
            on_ready(settings)
        toolkit.create_window("PEFT Studio", _local_url(settings), width=1280, height=900, min_size=(640, 480))
        toolkit.start()  # returns when the window is closed
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        thread.join(timeout=10)
