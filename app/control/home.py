"""The controller's part for the home screen (recent runs, resume, ways into the rest of the app)."""

from __future__ import annotations


class HomeControl:
    """Properties and actions for the home screen (recent runs, resume, ways into the rest of the app); mixed into `app.controller.Controller`."""
