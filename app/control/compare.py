"""The controller's part for run comparison (table, shared charts, clone into the wizard)."""

from __future__ import annotations


class CompareControl:
    """Properties and actions for run comparison (table, shared charts, clone into the wizard); mixed into `app.controller.Controller`."""
