"""Run comparison: a sortable table of completed runs; 2 to 5 chosen runs on shared charts (the best run
per metric marked), the settings that differ, and "Train again with these settings" for each."""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from app import present_compare as show
from app import theme
from app.screens.base import BaseScreen, load_kv
from app.widgets.action_button import StudioButton
from app.widgets.compare_chart import CompareChart
from app.widgets.text import Body, Heading, Muted

load_kv(__file__)

#: Table columns after the choose box: (key, width in dp; 0 = takes the rest). "model" is not sortable.
TABLE: tuple[tuple[str, float], ...] = (
    ("name", 0), ("model", 160), ("date", 120), ("final_val_loss", 120), ("best_val_loss", 120),
    ("quality_score", 130), ("duration_seconds", 120), ("tokens_per_second", 90), ("cost", 70))


def _sized(widget: Any, width: float) -> Any:
    if width:
        widget.size_hint_x, widget.width = None, dp(width)
    else:
        widget.size_hint_x = 1
    return widget


class RunRow(ButtonBehavior, BoxLayout):
    """One completed run; a tap chooses it for the comparison (its colour then marks it everywhere)."""

    run_id = StringProperty("")
    chosen = BooleanProperty(False)
    colour = ListProperty(list(theme.ACCENT))


class ChosenRun(BoxLayout):
    name = StringProperty("")
    details = StringProperty("")
    colour = ListProperty(list(theme.ACCENT))
    __events__ = ("on_again",)

    def on_again(self) -> None:
        pass


class DifferenceRow(BoxLayout):
    setting = StringProperty("")
    values = StringProperty("")


class CompareScreen(BaseScreen):
    hint = StringProperty("")
    chart_grid: Any = None

    def setup(self) -> None:
        self.ctrl.bind(compare_rows=self.refresh_table, compare_chosen=self.refresh_table,
                       comparison=self.refresh_table, compare_sort=self.refresh_header,
                       compare_descending=self.refresh_header, compare_axis=self.refresh_comparison,
                       compare_busy=self.refresh_hint)
        self.refresh_header()
        self.refresh_table()

    def on_enter(self, *_: Any) -> None:
        self.ctrl.refresh_runs()

    # ------------------------------------------------------------ the table
    def refresh_header(self, *_: Any) -> None:
        header = self.ids.header
        header.clear_widgets()
        header.add_widget(_sized(BoxLayout(), 56))
        for key, width in TABLE:
            if key in show.COLUMN_LABELS:
                button = StudioButton(text=show.sort_label(key, self.ctrl.compare_sort,
                                                           descending=self.ctrl.compare_descending),
                                      kind="ghost", wrap=True, font_size=theme.SMALL, halign="left", markup=True)
                button.bind(on_release=lambda _b, k=key: self.ctrl.sort_runs(k))
                button.sort_key = key
                cell = _sized(BoxLayout(), width)
                cell.add_widget(button)
            else:
                cell = _sized(Factory.TableCell(text="Model", color=theme.MUTED), width)
            header.add_widget(cell)

    def colour_of(self, run_id: str) -> list[float]:
        chosen = list(self.ctrl.compare_chosen)
        index = chosen.index(run_id) if run_id in chosen else 0
        return list(show.SERIES_COLOURS[index % len(show.SERIES_COLOURS)])

    def refresh_table(self, *_: Any) -> None:
        box = self.ids.rows
        box.clear_widgets()
        chosen, comparison = list(self.ctrl.compare_chosen), self.ctrl.comparison
        good = theme.hex_colour(theme.GOOD)
        for r in self.ctrl.compare_rows:
            row = RunRow(run_id=r.run_id, chosen=r.run_id in chosen, colour=self.colour_of(r.run_id))
            best = show.best_columns(comparison, r.run_id) if r.run_id in chosen else set()
            for key, width in TABLE:
                text = r.model if key == "model" else show.cell(key, getattr(r, key))
                if key in best:
                    text = f"[b][color={good}]{text}  best[/color][/b]"
                cell = _sized(Factory.TableCell(text=text), width)
                cell.best = key in best
                row.ids.cells.add_widget(cell)
            row.bind(on_release=lambda rw: self.choose(rw.run_id))
            box.add_widget(row)
        self.refresh_hint()
        self.refresh_comparison()

    def choose(self, run_id: str) -> None:
        if not self.ctrl.toggle_compared(run_id):
            self.hint = "You can compare up to 5 runs at once: tap a chosen run to leave it out first."

    def refresh_hint(self, *_: Any) -> None:
        n, rows = len(self.ctrl.compare_chosen), len(self.ctrl.compare_rows)
        if not rows:
            self.hint = "No finished runs yet: train a model first, then compare its runs here."
        elif n < 2:
            self.hint = f"{n} of 2 to 5 runs chosen: tap {'one more run' if n else 'two or more runs'} to compare."
        else:
            self.hint = f"{n} runs chosen." + (" Comparing..." if self.ctrl.compare_busy else "")

    # ------------------------------------------------------------ the comparison
    def refresh_comparison(self, *_: Any) -> None:
        box = self.ids.comparison
        box.clear_widgets()
        comparison = self.ctrl.comparison
        if comparison is None:
            return
        names = {r.run_id: r.name for r in comparison.rows}
        box.add_widget(Heading(plain="How the chosen runs compare"))
        axis_row = BoxLayout(size_hint_y=None, height=theme.TOUCH, spacing=dp(12))
        axis_row.add_widget(Body(plain="Horizontal axis:", size_hint_x=None, width=dp(150),
                                 pos_hint={"center_y": 0.5}))
        for axis, text in (("step", "Steps"), ("tokens", "Tokens seen")):
            button = StudioButton(text=text, kind="primary" if self.ctrl.compare_axis == axis else "secondary")
            button.bind(on_release=lambda _b, a=axis: self.ctrl.set_compare_axis(a))
            axis_row.add_widget(button)
        axis_row.add_widget(BoxLayout())
        box.add_widget(axis_row)
        grid = GridLayout(cols=2, spacing=dp(12), size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        xlabel = "Step" if self.ctrl.compare_axis == "step" else "Tokens seen"
        for chart in show.charts(comparison):
            widget = CompareChart(title=show.CHART_TITLES[chart.name], subtitle=show.chart_subtitle(chart, names))
            widget.metric = chart.name
            points = show.series(chart, self.ctrl.compare_axis)
            widget.show([(names[rid], tuple(self.colour_of(rid)), points.get(rid, []), rid == chart.best_run_id)
                         for rid in comparison.run_ids], xlabel)
            grid.add_widget(widget)
        box.add_widget(grid)
        self.chart_grid = grid
        box.add_widget(Heading(plain="What differs"))
        diffs = show.differences(comparison, names)
        if not diffs:
            box.add_widget(Muted(plain="These runs used the same settings."))
        for setting, values in diffs:
            box.add_widget(DifferenceRow(setting=setting, values=values))
        box.add_widget(Heading(plain="Train again"))
        for r in comparison.rows:
            details = " \u00b7 ".join(f"{show.COLUMN_LABELS[k]} {show.cell(k, getattr(r, k))}"
                                      for k in ("final_val_loss", "quality_score", "duration_seconds"))
            parts = show.quality_parts(r)
            details += f" \u00b7 {parts}" if parts else ""
            chosen = ChosenRun(name=f"{r.name} ({r.model})", details=details, colour=self.colour_of(r.run_id))
            chosen.run_id = r.run_id
            chosen.bind(on_again=lambda _c, rid=r.run_id: self.ctrl.clone_into_wizard(rid))
            box.add_widget(chosen)
