"""A round gauge for one reading (GPU use, memory, temperature, CPU, RAM), animated between readings.

The arc turns amber from `warn_at` and red from `bad_at`; with no reading (`value` < 0, e.g. a
computer without a GPU) it shows a dash and the `detail` text says why.

Example (kv):
    Gauge:
        title: "GPU memory"
        value: 72
        detail: "5.8 of 8 GB"
"""

from __future__ import annotations

from typing import Any

from kivy.animation import Animation
from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty, StringProperty

from app import theme
from app.widgets.text import Surface
from app.widgets.tooltip import TooltipBehavior

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<Gauge>:
    orientation: 'vertical'
    size_hint: None, None
    size: dp(150), dp(176)
    padding: dp(6)
    canvas.before:
        Color:
            rgba: theme.SURFACE_HIGH
        Line:
            circle: (self.center_x, self.top - dp(72), dp(50), -120, 120)
            width: dp(7)
            cap: 'round'
        Color:
            rgba: root.arc_colour
        Line:
            circle: (self.center_x, self.top - dp(72), dp(50), -120, -120 + 240 * max(0.0, min(root.shown / max(root.maximum, 1e-9), 1.0)) + 0.01)
            width: dp(7)
            cap: 'round'
    Widget:
        size_hint_y: None
        height: dp(26)
    Label:
        text: root.value_text
        font_size: theme.HEADING
        bold: True
        color: theme.TEXT
        size_hint_y: None
        height: dp(44)
    Widget:
        size_hint_y: None
        height: dp(8)
    Label:
        text: root.title
        font_size: theme.SMALL
        bold: True
        color: theme.TEXT
        size_hint_y: None
        height: dp(22)
    Label:
        text: root.detail
        font_size: theme.SMALL
        color: theme.MUTED
        size_hint_y: None
        height: dp(22)
        text_size: self.width, None
        halign: 'center'
        shorten: True
""")


def colour_for(value: float, warn_at: float, bad_at: float) -> tuple[float, ...]:
    """Green, amber or red for a reading (grey when there is none).

    Example:
        >>> colour_for(95, 80, 90) == theme.BAD, colour_for(-1, 80, 90)[3]
        (True, 0)
    """
    if value < 0:
        return (0, 0, 0, 0)  # no reading: no arc, only the grey track
    if value >= bad_at:
        return theme.BAD
    if value >= warn_at:
        return theme.WARN
    return theme.GOOD


class Gauge(TooltipBehavior, Surface):  # (its arcs are drawn over the Surface's card)
    """One reading as an arc. `value` is in the gauge's unit (percent or degrees); < 0 means none."""

    title = StringProperty("")
    detail = StringProperty("")
    unit = StringProperty("%")
    value = NumericProperty(-1.0)
    shown = NumericProperty(0.0)  # the animated value the arc draws
    maximum = NumericProperty(100.0)
    warn_at = NumericProperty(80.0)
    bad_at = NumericProperty(92.0)
    value_text = StringProperty("–")
    arc_colour = ListProperty(list(theme.MUTED))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_value(self, self.value)

    def on_value(self, _inst: Any, value: float) -> None:
        Animation.cancel_all(self, "shown")
        if value < 0:
            self.value_text = "–"
            self.shown = 0.0
        else:
            self.value_text = f"{value:.0f}{self.unit}"
            Animation(shown=float(value), duration=0.3, t="out_cubic").start(self)
        self.arc_colour = list(colour_for(value, self.warn_at, self.bad_at))
