"""What the routers share: the server's settings, this machine's hardware, JSON of records."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import Request

from peftstudio.server.settings import ServerSettings

_hardware_lock = threading.Lock()


def settings_of(request: Request) -> ServerSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def hardware_of(request: Request) -> Any:
    """This machine, probed once per server (without loading torch: the probe must be quick)."""
    state = request.app.state
    with _hardware_lock:
        if getattr(state, "hardware", None) is None:
            from peftstudio.hardware import probe_hardware

            state.hardware = probe_hardware(use_torch=False)
        return state.hardware


def as_json(record: Any) -> Any:
    """A library record as plain JSON data (the one converter's form)."""
    from peftstudio.records.convert import to_dict

    return to_dict(record)
