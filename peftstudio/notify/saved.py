"""The notification switches a person chose, kept in the home folder (``notifications.json``).

Missing, unreadable or foreign content reads as the defaults (a broken file never stops a notice);
writing is atomic.

Example:
    >>> import os, tempfile
    >>> os.environ["PEFTSTUDIO_HOME"] = tempfile.mkdtemp()
    >>> load_settings() == NotifySettings()
    True
    >>> _ = save_settings(NotifySettings(progress=False, sound=False))
    >>> load_settings().progress, load_settings().completion
    (False, True)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import attrs

from peftstudio.notify.decide import NotifySettings

log = logging.getLogger(__name__)

#: the switches a person can set (the milestones are the library's)
SWITCHES = ("progress", "completion", "errors", "warnings", "sound", "launcher", "respect_do_not_disturb")


def settings_path() -> Path:
    """Where the switches are kept."""
    from peftstudio.paths import home

    return home() / "notifications.json"


def load_settings() -> NotifySettings:
    """The saved switches over the defaults."""
    path = settings_path()
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return NotifySettings()
    except (OSError, ValueError) as exc:
        log.info("notification settings in %s not readable (%s); using the defaults", path, exc)
        return NotifySettings()
    if not isinstance(data, dict):
        return NotifySettings()
    switches: dict[str, Any] = {k: v for k, v in data.items() if k in SWITCHES and isinstance(v, bool)}
    return attrs.evolve(NotifySettings(), **switches)


def save_settings(settings: NotifySettings) -> NotifySettings:
    """Keep `settings`' switches (atomically); returns them."""
    from peftstudio.files import atomic_write_text

    atomic_write_text(settings_path(), json.dumps({k: getattr(settings, k) for k in SWITCHES}, indent=2) + "\n")
    return settings
