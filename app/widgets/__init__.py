"""Shared widgets: action button, tooltip, glossary text, loss chart, gauge, finding row, wizard frame.

`load()` imports them all so kv files can name them; it is idempotent.
"""

from __future__ import annotations

import importlib

MODULES = ("action_button", "tooltip", "glossary_term", "text", "loss_chart", "gauge", "finding_row",
           "wizard_frame", "banner", "notification_settings")


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"app.widgets.{name}")
