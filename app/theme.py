"""Colours and sizes of the app, in one place (kv files use them through `#:import theme app.theme`).

A dark theme: Kivy's own widgets (text inputs, file chooser, scroll bars) are drawn for dark
backgrounds, and light text on a dark grey keeps a contrast ratio above 7:1.
"""

from __future__ import annotations

from kivy.metrics import dp, sp

BACKGROUND = (0.118, 0.129, 0.157, 1)  # #1E2128
SURFACE = (0.165, 0.180, 0.216, 1)  # cards
SURFACE_HIGH = (0.215, 0.235, 0.282, 1)  # selected card, inputs
TEXT = (0.925, 0.937, 0.957, 1)  # #ECEFF4
MUTED = (0.72, 0.75, 0.80, 1)  # secondary text, still > 7:1 on BACKGROUND
ACCENT = (0.298, 0.553, 1.0, 1)  # #4C8DFF
ACCENT_DARK = (0.180, 0.376, 0.780, 1)
GOOD = (0.298, 0.757, 0.471, 1)
WARN = (0.984, 0.741, 0.255, 1)
BAD = (0.937, 0.353, 0.353, 1)
FOCUS = (1.0, 0.85, 0.35, 1)

#: Zones behind the loss chart (translucent versions of the status colours).
ZONE_GOOD = (0.298, 0.757, 0.471, 0.45)
ZONE_OK = (0.984, 0.741, 0.255, 0.40)
ZONE_BAD = (0.937, 0.353, 0.353, 0.42)

SEVERITY_COLOURS = {"error": BAD, "warning": WARN, "info": ACCENT}

#: Smallest touch target (Material and Apple guidelines both ask for about 48 dp).
TOUCH = dp(48)
PAD = dp(16)
GAP = dp(12)

TITLE = sp(28)
HEADING = sp(20)
BODY = sp(16)
SMALL = sp(14)


def hex_colour(rgba: tuple[float, ...]) -> str:
    """`(r, g, b, a)` as ``rrggbb`` for Kivy markup ``[color=...]``.

    Example:
        >>> hex_colour((1.0, 0.0, 0.5, 1))
        'ff0080'
    """
    return "".join(f"{round(c * 255):02x}" for c in rgba[:3])
