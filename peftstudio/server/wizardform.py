"""A saved configuration (a preset's, a finished run's) as the wizard's own choices, so the page can open the
wizard filled in: the use case, the model, the data as a reference the server may read, every planned setting.

Example:
    >>> from peftstudio.records import RunConfig, ModelChoice, DataSettings
    >>> from peftstudio.server.settings import ServerSettings
    >>> cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
    ...                 data=DataSettings(path="/elsewhere/chat.jsonl"))
    >>> form = wizard_form(cfg, ServerSettings.create())
    >>> form["profile"], form["model"], form["data"], form["overrides"]["precision"]
    ('chatbot', 'builtin:tiny-llama', None, 'fp32')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from peftstudio.server.settings import ServerSettings

_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def data_ref_for(path: str, settings: ServerSettings) -> str | None:
    """The page's reference for a data file this server may read (a sample, an upload, a file in a data folder);
    None for anything else (another machine's path, a file since removed)."""
    if not path or "\x00" in path:
        return None
    from peftstudio.data import SAMPLES, sample_path

    p = Path(path)
    for name in SAMPLES:
        if p.name == name and p.resolve() == sample_path(name).resolve():
            return f"sample:{name}"
    real = p.resolve()
    uploads = Path(settings.upload_dir).resolve()
    if real.is_relative_to(uploads) and real.is_file():
        parts = real.relative_to(uploads).parts
        if len(parts) == 2 and _UPLOAD_ID.match(parts[0]):
            return f"upload:{parts[0]}/{parts[1]}"
        return None
    if p.is_absolute() and real.is_file() and any(real.is_relative_to(Path(d).resolve()) for d in settings.data_dirs):
        return str(real)
    return None


def wizard_form(config: Any, settings: ServerSettings) -> dict[str, Any]:
    """The wizard's choices for `config` (a `RunConfig`): profile, model, data reference (None, with a note,
    when the file is not here), the planned settings as the person's own choices, and the name."""
    from peftstudio.history.fit import preset_overrides

    data = data_ref_for(config.data.path, settings)
    notes = []
    if data is None and config.data.path:
        notes.append(f"The data file {Path(config.data.path).name} is not on this server: choose the data in the "
                     "wizard.")
    return {"profile": config.profile, "model": config.model.reference, "data": data,
            "overrides": preset_overrides(config), "name": config.name, "notes": notes}


__all__ = ["data_ref_for", "wizard_form"]
