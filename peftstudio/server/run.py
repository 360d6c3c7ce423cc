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


def serve(settings: ServerSettings, *, open_browser: bool = False,
          on_ready: Callable[[ServerSettings], None] | None = None, log_level: str = "warning") -> None:
    """Serve until Ctrl-C (running trainings go on in their own processes and are found again later)."""
    import uvicorn

    from peftstudio.server.app import create_app

    sock = bind(settings.host, settings.port)
    settings = attrs.evolve(settings, port=sock.getsockname()[1])
    config = uvicorn.Config(create_app(settings), log_level=log_level, access_log=False,
                            timeout_graceful_shutdown=2, server_header=False)
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if server.started:
            if on_ready is not None:
                on_ready(settings)
            if open_browser:
                local = "127.0.0.1" if settings.host in ("0.0.0.0", "127.0.0.1") else None
                webbrowser.open(settings.url_with_token(local))

    threading.Thread(target=announce, daemon=True, name="studio-ready").start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down cleanly and passes the Ctrl-C on: the normal way to stop
        pass
