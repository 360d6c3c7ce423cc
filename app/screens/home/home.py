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

from app import theme
from app.screens.base import BaseScreen, load_kv
from app.widgets.action_button import StudioButton
from app.widgets.text import Surface

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<HomeTile>:
    orientation: 'vertical'
    padding: dp(12)
    spacing: dp(8)
    StudioButton:
        id: button
        text: root.title
        kind: root.kind
        wrap: True
        font_size: theme.HEADING
        bold: True
        on_release: root.dispatch('on_release')
    Muted:
        plain: root.note
    Widget:  # the extra height goes below the note
""")

STATUS_COLOURS = {"completed": theme.GOOD, "running": theme.ACCENT, "queued": theme.ACCENT, "paused": theme.WARN,
                  "failed": theme.BAD}


class HomeTile(Surface):
    """A big button with a line under it saying what is behind it; `on_release` when it is pressed."""

    title = StringProperty("")
    note = StringProperty("")
    kind = StringProperty("secondary")
    __events__ = ("on_release",)

    def on_release(self) -> None:
        pass


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
        self.ctrl.refresh_home()  # the app opens on this screen: no on_enter comes for the first one

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
