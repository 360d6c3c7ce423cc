"""Where PEFT Studio keeps its data: the home folder.

`PEFTSTUDIO_HOME` overrides the default, which is the platform's user data
folder (e.g. ``~/.local/share/peftstudio`` on Linux).

Example:
    >>> import os
    >>> os.environ["PEFTSTUDIO_HOME"] = "/tmp/ps-doc-home"
    >>> str(home())
    '/tmp/ps-doc-home'
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The home folder (created on first use)."""
    env = os.environ.get("PEFTSTUDIO_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("peftstudio", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sub(*parts: str) -> Path:
    """A folder under the home folder, created on first use."""
    path = home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    return home() / "peftstudio.db"


def models_dir() -> Path:
    """Cache of built-in and converted models; `PEFTSTUDIO_MODELS_DIR` overrides it (tests share one)."""
    env = os.environ.get("PEFTSTUDIO_MODELS_DIR")
    if env:
        path = Path(env).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return sub("models")


def runs_dir() -> Path:
    return sub("runs")


def logs_dir() -> Path:
    return sub("logs")
