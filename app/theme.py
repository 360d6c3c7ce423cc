"""Colours and sizes of the app, in one place (kv files use them through `#:import theme app.theme`).

A dark theme: Kivy's own widgets (text inputs, file chooser, scroll bars) are drawn for dark
backgrounds, and light text on a dark grey keeps a contrast ratio above 7:1.
"""

from __future__ import annotations

from kivy.metrics import dp, sp

from app.colours import (  # noqa: F401 - re-exported for the kv files
    ACCENT,
    ACCENT_DARK,
    BACKGROUND,
    BAD,
    FOCUS,
    GOOD,
    MUTED,
    SEVERITY_COLOURS,
    SURFACE,
    SURFACE_HIGH,
    TEXT,
    WARN,
    ZONE_BAD,
    ZONE_GOOD,
    ZONE_OK,
    hex_colour,
)

#: Smallest touch target (Material and Apple guidelines both ask for about 48 dp).
TOUCH = dp(48)
PAD = dp(16)
GAP = dp(12)

TITLE = sp(28)
HEADING = sp(20)
BODY = sp(16)
SMALL = sp(14)
