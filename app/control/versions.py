"""The controller's part for a model's version timeline (activate, archive, delete, disk space)."""

from __future__ import annotations


class VersionsControl:
    """Properties and actions for a model's version timeline (activate, archive, delete, disk space); mixed into `app.controller.Controller`."""
