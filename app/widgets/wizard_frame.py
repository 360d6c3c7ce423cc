"""The wizard's frame: a step bar on top (where you are, tap a done step to go back) and Back/Next below."""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import NumericProperty
from kivy.uix.boxlayout import BoxLayout

from app import theme
from app.widgets.action_button import StudioButton

#: The wizard's steps: screen name and the label on the step bar.
STEPS: tuple[tuple[str, str], ...] = (
    ("welcome", "Welcome"),
    ("usecase", "Use case"),
    ("model", "Model"),
    ("data", "Data"),
    ("settings", "Settings"),
    ("review", "Review"),
)

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<StepBar>:
    size_hint_y: None
    height: theme.TOUCH + dp(14)
    padding: dp(6), dp(6)
    spacing: dp(6)
    canvas.before:
        Color:
            rgba: theme.SURFACE
        Rectangle:
            pos: self.pos
            size: self.size
""")


class StepBar(BoxLayout):
    """Shows the steps; `current` is the index of this screen. Fires ``on_step(name)`` for a done step."""

    current = NumericProperty(0)
    reached = NumericProperty(0)  # the furthest step visited: steps up to it can be opened
    __events__ = ("on_step",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.buttons: list[StudioButton] = []
        for i, (name, label) in enumerate(STEPS):
            button = StudioButton(text=f"{i + 1}. {label}", wrap=True, font_size=theme.SMALL)
            button.bind(on_release=lambda _b, n=name: self.dispatch("on_step", n))
            self.buttons.append(button)
            self.add_widget(button)
        self.bind(current=self._refresh, reached=self._refresh)
        self._refresh()

    def _refresh(self, *_: Any) -> None:
        for i, button in enumerate(self.buttons):
            button.kind = "primary" if i == self.current else ("secondary" if i <= self.reached else "ghost")
            button.disabled = i > max(self.reached, self.current)
            button.bold = i == self.current

    def on_step(self, name: str) -> None:
        pass
