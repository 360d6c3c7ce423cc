"""The app's colours and `hex_colour`, without Kivy (so the controller can use them with no window).

`app.theme` re-exports them next to the sizes, which need Kivy's metrics (and so a window).
"""

from __future__ import annotations

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


def hex_colour(rgba: tuple[float, ...]) -> str:
    """`(r, g, b, a)` as ``rrggbb`` for Kivy markup ``[color=...]``.

    Example:
        >>> hex_colour((1.0, 0.0, 0.5, 1))
        'ff0080'
    """
    return "".join(f"{round(c * 255):02x}" for c in rgba[:3])
