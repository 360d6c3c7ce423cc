"""A studio server whose machine is simulated by the library (`peftstudio.hardware.simulated_hardware`): the
same server as `studio`, with its app at hand so a test can say which machine it runs on (a GPU box where the
preset is made, "a smaller machine" where it is imported)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from peftstudio.server import ServerSettings
from tests.server.conftest import LOGIN, SESSION, Studio, start_server, stop_workers


@attrs.define
class SimulatedStudio(Studio):
    app: Any = None

    def set_hardware(self, hardware: Any) -> None:
        """From now on the server plans for `hardware` (what `deps.hardware_of` would have probed)."""
        self.app.state.hardware = hardware


@contextmanager
def simulated_studio(folder: Path, hardware: Any, **settings: Any) -> Iterator[SimulatedStudio]:
    data_dir, upload_dir = folder / "data", folder / "uploads"
    data_dir.mkdir(parents=True, exist_ok=True)
    made = ServerSettings.create("127.0.0.1", 0, data_dirs=[str(data_dir)], upload_dir=upload_dir, login_token=LOGIN,
                                 session_key=SESSION, failure_delay_s=0.0, **settings)
    url, made, server, thread = start_server(made)
    studio = SimulatedStudio(url, made, data_dir, upload_dir, app=server.config.app)  # type: ignore[attr-defined]
    studio.set_hardware(hardware)
    try:
        yield studio
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(timeout=10)
        stop_workers()


__all__ = ["SimulatedStudio", "simulated_studio"]
