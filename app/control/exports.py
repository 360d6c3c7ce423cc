"""The controller's part for the export screen (four kinds, progress, Test Export)."""

from __future__ import annotations


class ExportsControl:
    """Properties and actions for the export screen (four kinds, progress, Test Export); mixed into `app.controller.Controller`."""
