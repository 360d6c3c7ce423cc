"""The controller's part for the playground screen (base vs tuned chat, example chips, saved history)."""

from __future__ import annotations


class PlaygroundControl:
    """Properties and actions for the playground screen (base vs tuned chat, example chips, saved history); mixed into `app.controller.Controller`."""
