"""The loss chart: training and validation loss over steps, over coloured zones that say how it goes.

Zones (behind the curve) are relative to the first loss: well below it is *good* (the model is
learning), a little below it is *acceptable* (learning slowly), at or above it is *problematic* (not
learning, or diverging). `loss_zones` is the pure rule; `LossChart` draws it with kivy_garden.graph.
A dot marks the newest point and swells briefly when one arrives.

Example:
    >>> loss_zones(2.0)
    (1.5, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from kivy.animation import Animation
from kivy.graphics import Color, Ellipse, Rectangle
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import ListProperty, NumericProperty
from kivy.uix.boxlayout import BoxLayout
from kivy_garden.graph import Graph, LinePlot, Plot

from app import theme
from app.presenting import loss_zones  # the library decides the zones (peftstudio.runs.loss_zones)

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<LossChart>:
    orientation: 'vertical'
    spacing: dp(4)
    BoxLayout:
        size_hint_y: None
        height: dp(28)
        spacing: dp(18)
        padding: dp(56), 0, 0, 0
        Swatch:
            rgba: theme.ACCENT
            text: "Training loss"
            line: True
        Swatch:
            rgba: theme.WARN
            text: "Validation loss"
            line: True
        Swatch:
            rgba: theme.ZONE_GOOD[:3] + (0.8,)
            text: "good"
        Swatch:
            rgba: theme.ZONE_OK[:3] + (0.8,)
            text: "acceptable"
        Swatch:
            rgba: theme.ZONE_BAD[:3] + (0.8,)
            text: "problematic"
        Widget:
<Swatch@BoxLayout>:
    rgba: (1, 1, 1, 1)
    text: ""
    line: False
    size_hint_x: None
    width: dp(26) + lab.texture_size[0]
    spacing: dp(6)
    Widget:
        size_hint_x: None
        width: dp(20)
        canvas:
            Color:
                rgba: root.rgba
            Rectangle:
                pos: (self.x, self.center_y - (dp(1.5) if root.line else dp(7)))
                size: (self.width, dp(3) if root.line else dp(14))
    Label:
        id: lab
        text: root.text
        color: theme.MUTED
        font_size: theme.SMALL
""")


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick spacing (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`.

    Example:
        >>> nice_step(100), nice_step(3.2)
        (20.0, 1.0)
    """
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return float(m * power)
    return float(10 * power)


class ZonePlot(Plot):
    """Horizontal bands across the whole plot: good (bottom), acceptable, problematic (top)."""

    bands = ListProperty([])  # [(y_from, y_to, rgba), ...]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(bands=self.ask_draw)

    def create_drawings(self) -> list[Any]:
        self._parts = [(Color(0, 0, 0, 0), Rectangle(size=(0, 0))) for _ in range(3)]
        return [instr for pair in self._parts for instr in pair]

    def draw(self, *args: Any) -> None:
        super().draw(*args)
        size = self.params["size"]
        y_px = self.y_px()
        ymin, ymax = self.params["ymin"], self.params["ymax"]
        for i, (colour, rect) in enumerate(self._parts):
            if i >= len(self.bands):
                colour.rgba = (0, 0, 0, 0)
                continue
            lo, hi, rgba = self.bands[i]
            lo, hi = max(lo, ymin), min(hi, ymax)
            colour.rgba = rgba
            if hi <= lo:
                rect.size = (0, 0)
                continue
            rect.pos = (size[0], y_px(lo))
            rect.size = (size[2] - size[0], y_px(hi) - y_px(lo))


class LossChart(BoxLayout):
    """Call `update(train, val, total_steps)` with (step, loss) pairs; it rescales and redraws."""

    total_steps = NumericProperty(0)
    pulse = NumericProperty(dp(5))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graph = Graph(
            xlabel="Step", ylabel="Loss", x_ticks_major=10, y_ticks_major=1, x_grid_label=True,
            y_grid_label=True, x_grid=True, y_grid=True, xmin=0, xmax=10, ymin=0, ymax=1, padding=dp(6),
            font_size=theme.SMALL, tick_color=(1, 1, 1, 0.10), border_color=(1, 1, 1, 0.35),
            label_options={"color": theme.MUTED, "bold": False}, precision="%g",
        )
        self.zones = ZonePlot()
        self.train_plot = LinePlot(color=theme.ACCENT, line_width=dp(2))
        self.val_plot = LinePlot(color=theme.WARN, line_width=dp(2))
        for plot in (self.zones, self.train_plot, self.val_plot):
            self.graph.add_plot(plot)
        self.add_widget(self.graph)  # before the kv rule adds the legend below it
        with self.graph.canvas.after:
            self._dot_colour = Color(*theme.ACCENT)
            self._dot = Ellipse(size=(0, 0))
        self._last: tuple[float, float] | None = None
        self.bind(pulse=self._place_dot)
        self.graph.bind(pos=self._place_dot, size=self._place_dot)
        self.train_plot.bind(params=self._place_dot)  # the graph re-lays its plots after a resize

    def update(self, train: Sequence[tuple[float, float]], val: Sequence[tuple[float, float]] = (),
               total_steps: int | None = None) -> None:
        """Show these points (each (step, loss)); rescale the axes to fit them and the whole run."""
        if total_steps is not None:
            self.total_steps = total_steps
        finite_train = [(float(s), float(v)) for s, v in train if math.isfinite(v)]
        finite_val = [(float(s), float(v)) for s, v in val if math.isfinite(v)]
        last_step = max([s for s, _ in finite_train + finite_val], default=0.0)
        xmax = max(float(self.total_steps or 0), last_step, 1.0)
        values = [v for _, v in finite_train + finite_val]
        top = max(values, default=1.0) * 1.15 or 1.0
        ystep = nice_step(top, 4)
        ymax = math.ceil(top / ystep) * ystep
        xstep = nice_step(xmax, 5)
        g = self.graph
        g.xmax, g.ymax, g.x_ticks_major, g.y_ticks_major = xmax, ymax, xstep, ystep
        good, problem = loss_zones(finite_train[0][1]) if finite_train else (0.0, 0.0)
        self.zones.bands = [] if not finite_train else [
            (0.0, good, theme.ZONE_GOOD), (good, problem, theme.ZONE_OK), (problem, ymax, theme.ZONE_BAD)]
        self.train_plot.points = finite_train
        self.val_plot.points = finite_val
        last = finite_train[-1] if finite_train else None
        if last is not None and last != self._last:
            # a new point: the dot swells briefly (a short animation, not a continuous one, so an idle
            # dashboard does not redraw every frame)
            Animation.cancel_all(self, "pulse")
            self.pulse = dp(9)
            Animation(pulse=dp(5), duration=0.35, t="out_quad").start(self)
        self._last = last
        self._place_dot()

    def _place_dot(self, *_: Any) -> None:
        if self._last is None or not self.train_plot.params["size"][2]:
            self._dot.size = (0, 0)
            return
        x = self.train_plot.x_px()(self._last[0]) + self.graph.x
        y = self.train_plot.y_px()(self._last[1]) + self.graph.y
        r = self.pulse
        self._dot.pos = (x - r, y - r)
        self._dot.size = (2 * r, 2 * r)
