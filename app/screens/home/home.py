"""Home: the way into everything. New training, presets, run comparison and versions as big tiles, and
the recent runs with their status and what each offers (Resume, Watch, Playground, Export).

The runs come from the controller (`app.control.home`), read again each time the screen is shown and
whenever the followed run changes status."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import DictProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.utils import escape_markup

from app import theme
from app.screens.base import BaseScreen, load_kv
from app.widgets.action_button import StudioButton

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<HomeTile>:
    wrap: True
    markup: True
    halign: 'left'
    valign: 'top'
    text_size: (self.width - dp(32), self.height - dp(28))
    height: max(dp(120), self.texture_size[1] + dp(28))
""")

STATUS_COLOURS = {"completed": theme.GOOD, "running": theme.ACCENT, "queued": theme.ACCENT, "paused": theme.WARN,
                  "failed": theme.BAD}


class HomeTile(StudioButton):
    """A big button: a title and a line saying what is behind it."""

    title = StringProperty("")
    note = StringProperty("")

    def on_title(self, *_: Any) -> None:
        self._compose()

    def on_note(self, *_: Any) -> None:
        self._compose()

    def _compose(self) -> None:
        self.text = (f"[b][size={int(theme.HEADING)}]{escape_markup(self.title)}[/size][/b]\n"
                     f"[size={int(theme.SMALL)}]{escape_markup(self.note)}[/size]")


class RunCard(BoxLayout):
    """One recent run: name, facts, status, and its buttons (`on_action(action)` when one is pressed)."""

    run = DictProperty({})
    status_colour = ListProperty(list(theme.MUTED))
    __events__ = ("on_action",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_run()  # the kv rule is applied now: the buttons can be made

    def on_run(self, *_: Any) -> None:
        self.status_colour = list(STATUS_COLOURS.get(self.run.get("status", ""), theme.MUTED))
        box = self.ids.get("actions")
        if box is None:
            return
        box.clear_widgets()
        for action, label in zip(self.run.get("actions", []), self.run.get("labels", []), strict=True):
            button = StudioButton(text=label, kind="primary" if action in ("playground", "resume") else "secondary")
            button.action = action
            button.bind(on_release=lambda b: self.dispatch("on_action", b.action))
            box.add_widget(button)

    def on_action(self, action: str) -> None:
        pass


load_kv(__file__)


class HomeScreen(BaseScreen):
    def setup(self) -> None:
        self._refresh = Clock.create_trigger(lambda _dt: self.ctrl.refresh_home(), 0.3)
        self.ctrl.bind(recent_runs=self.refresh_runs, run_status=self._status_changed)
        self.refresh_runs()

    def on_enter(self, *_: Any) -> None:
        self.ctrl.refresh_home()

    def _status_changed(self, *_: Any) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self._refresh()

    def refresh_runs(self, *_: Any) -> None:
        box = self.ids.runs
        box.clear_widgets()
        for run in self.ctrl.recent_runs:
            card = RunCard(run=run)
            card.bind(on_action=lambda c, action: self.ctrl.run_action(c.run["id"], action))
            box.add_widget(card)
