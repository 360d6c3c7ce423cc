"""A chart of one metric for several runs on shared axes (kivy_garden.graph), the best run marked.

Each run is a line in its own colour, with a dot on every point (a metric measured once, such as the
final validation loss, still shows); the best run's line is thicker and its legend entry says "best".
`axis_range` is the pure rule for the axes.

Example:
    >>> axis_range([5.9, 6.8])
    (5.5, 7.5, 0.5)
    >>> axis_range([3.0]), axis_range([14.0, 152.0])
    ((2.6, 3.4, 0.2), (0.0, 200.0, 50.0))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy_garden.graph import Graph, LinePlot, ScatterPlot

from app import theme
from app.widgets.loss_chart import nice_step
from app.widgets.text import Surface

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<CompareChart>:
    orientation: 'vertical'
    padding: dp(12)
    spacing: dp(4)
    size_hint_y: None
    height: dp(300)
    Label:
        text: root.title
        bold: True
        font_size: theme.BODY
        color: theme.TEXT
        halign: 'left'
        text_size: self.width, None
        size_hint_y: None
        height: self.texture_size[1]
    Label:
        id: subtitle
        text: root.subtitle
        font_size: theme.SMALL
        color: theme.MUTED
        halign: 'left'
        text_size: self.width, None
        size_hint_y: None
        height: self.texture_size[1]
    BoxLayout:
        id: legend
        size_hint_y: None
        height: dp(24)
        spacing: dp(14)
""")


def axis_range(values: Sequence[float], ticks: int = 4) -> tuple[float, float, float]:
    """(low, high, tick) around `values` with a little room, on round ticks; a lone value gets +-1 tick span."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return (0.0, 1.0, 0.25)
    lo, hi = min(finite), max(finite)
    if hi == lo:  # one value (or all equal): room of a tenth of it on each side
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, ticks)
    low = _floor(lo - step / 2, step)
    return (0.0 if lo >= 0 > low else low, _ceil(hi + step / 2, step), step)  # no negative room for speeds


def _floor(x: float, step: float) -> float:
    return round(math.floor(x / step + 1e-9) * step, 10)


def _ceil(x: float, step: float) -> float:
    return round(math.ceil(x / step - 1e-9) * step, 10)


class CompareChart(Surface):
    """Call `show(series, xlabel)`: series are ``(name, rgba, points, best)`` with points ``(x, value)``."""

    title = StringProperty("")
    subtitle = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graph = Graph(
            xlabel="Step", x_ticks_major=1, y_ticks_major=1, x_grid_label=True, y_grid_label=True,
            x_grid=True, y_grid=True, xmin=0, xmax=1, ymin=0, ymax=1, padding=dp(6), font_size=theme.SMALL,
            tick_color=(1, 1, 1, 0.10), border_color=(1, 1, 1, 0.35),
            label_options={"color": theme.MUTED, "bold": False}, precision="%g",
        )
        self.add_widget(self.graph, index=1)  # between the titles and the legend
        self._plots: list[Any] = []
        self.best_name = ""

    def show(self, series: Sequence[tuple[str, tuple[float, ...], Sequence[tuple[float, float]], bool]],
             xlabel: str = "Step") -> None:
        for plot in self._plots:
            self.graph.remove_plot(plot)
        self._plots = []
        legend = self.ids.legend
        legend.clear_widgets()
        xs = [x for _, _, points, _ in series for x, _ in points]
        ys = [y for _, _, points, _ in series for _, y in points]
        ylo, yhi, ystep = axis_range(ys)
        xlo, xhi = (min(xs), max(xs)) if xs else (0.0, 1.0)
        if xhi == xlo:
            xlo, xhi = xlo - 1, xhi + 1
        g = self.graph
        g.xlabel = xlabel
        g.xmin, g.xmax, g.x_ticks_major = xlo, xhi, nice_step(xhi - xlo, 5)
        g.ymin, g.ymax, g.y_ticks_major = ylo, yhi, ystep
        self.best_name = ""
        for name, rgba, points, best in series:
            line = LinePlot(color=rgba, line_width=dp(3.5) if best else dp(1.8))
            dots = ScatterPlot(color=rgba, point_size=dp(5) if best else dp(3.5))
            line.points = dots.points = list(points)
            for plot in (line, dots):
                g.add_plot(plot)
                self._plots.append(plot)
            if best:
                self.best_name = name
            legend.add_widget(_legend_entry(name, rgba, best))
        legend.add_widget(BoxLayout())  # the rest of the row


def _legend_entry(name: str, rgba: tuple[float, ...], best: bool) -> BoxLayout:
    from kivy.graphics import Color, Rectangle

    box = BoxLayout(size_hint_x=None, spacing=dp(6))
    swatch = BoxLayout(size_hint_x=None, width=dp(20))
    with swatch.canvas:
        Color(*rgba)
        rect = Rectangle()
    swatch.bind(pos=lambda w, _p: setattr(rect, "pos", (w.x, w.center_y - dp(2))),
                size=lambda w, _s: setattr(rect, "size", (w.width, dp(4) if best else dp(2.5))))
    text = f"{name}  [b][color={theme.hex_colour(theme.GOOD)}]best[/color][/b]" if best else name
    label = Label(text=text, markup=True, font_size=theme.SMALL, color=theme.TEXT if best else theme.MUTED,
                  size_hint_x=None)
    label.bind(texture_size=lambda lab, ts: setattr(lab, "width", ts[0]))
    label.texture_update()
    box.add_widget(swatch)
    box.add_widget(label)
    box.width = dp(26) + label.texture_size[0]
    label.bind(width=lambda _l, w: setattr(box, "width", dp(26) + w))
    return box
