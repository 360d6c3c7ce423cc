"""The controller's part for presets (save from the wizard, library, import/export)."""

from __future__ import annotations


class PresetsControl:
    """Properties and actions for presets (save from the wizard, library, import/export); mixed into `app.controller.Controller`."""
