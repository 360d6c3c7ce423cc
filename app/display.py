"""Graphics settings chosen for the machine, applied before Kivy opens its window.

Multisample anti-aliasing (Kivy's default: 2 samples) is nearly free on a GPU but doubles the cost of
every redraw where OpenGL runs in software (Mesa's llvmpipe: no GPU driver, a virtual machine, a remote
session, or the offscreen window of the tests): there it is switched off, which keeps a redraw of the
dashboard well under a frame's 50 ms. ``PEFTSTUDIO_MULTISAMPLES`` overrides the choice.

Example:
    >>> multisamples(software=True), multisamples(software=False)
    (0, 2)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: Anti-aliasing samples with a hardware GPU driver (Kivy's own default).
HARDWARE_SAMPLES = 2


def software_rendering() -> bool:
    """Whether OpenGL will most likely run in software here (Linux without a GPU device node, or forced)."""
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE", "") not in ("", "0") or os.environ.get("SDL_VIDEODRIVER") == "offscreen":
        return True
    if not sys.platform.startswith("linux"):
        return False  # Windows and macOS always have a GPU driver of some kind
    dri = Path("/dev/dri")
    return not (any(dri.glob("renderD*")) or Path("/dev/nvidia0").exists())


def multisamples(software: bool | None = None) -> int:
    """Anti-aliasing samples for the window: 0 with software OpenGL, else `HARDWARE_SAMPLES`."""
    forced = os.environ.get("PEFTSTUDIO_MULTISAMPLES", "")
    if forced.isdigit():
        return int(forced)
    return 0 if (software_rendering() if software is None else software) else HARDWARE_SAMPLES


def configure(config: Any) -> None:
    """Apply the graphics settings to Kivy's `Config` (call before the window exists)."""
    config.set("graphics", "multisamples", str(multisamples()))


__all__ = ["configure", "multisamples", "software_rendering"]
