"""Base classes of every screen: `BaseScreen` (holds the controller as `ctrl`) and `WizardScreen`.

A screen is a thin view: it reads the controller's properties (in its kv file) and calls the
controller's methods; it never calls the library itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from app.widgets.wizard_frame import STEPS

Builder.load_file(str(Path(__file__).with_name("base.kv")))


def load_kv(module_file: str) -> None:
    """Load the kv file next to a screen module (``foo/foo.py`` -> ``foo/foo.kv``), once."""
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)


class BaseScreen(Screen):
    """A screen with the app's controller in `ctrl`."""

    ctrl = ObjectProperty(None)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.ctrl is not None:
            self.setup()  # after the kv rules: `ids` are there now

    def setup(self) -> None:
        """Bind to the controller's properties (override; called once, after the kv file is applied)."""

    def go(self, name: str) -> None:
        """Show another screen."""
        if self.manager is not None:
            self.manager.current = name


class WizardScreen(BaseScreen):
    """A wizard step: the step bar, a scrolling body (children of the subclass's kv rule) and Back/Next.

    Subclasses set `step` (index in `STEPS`) and may override `can_go_next` / `before_next`.
    """

    step = NumericProperty(0)
    body = ObjectProperty(None, allownone=True)
    next_text = StringProperty("Next")
    next_enabled = BooleanProperty(True)
    hint = StringProperty("")  # why Next is disabled, in plain words

    def add_widget(self, widget: Any, *args: Any, **kwargs: Any) -> None:
        if self.body is not None:
            self.body.add_widget(widget, *args, **kwargs)
        else:
            super().add_widget(widget, *args, **kwargs)

    def on_enter(self, *_: Any) -> None:
        if self.ctrl is not None:
            self.ctrl.wizard_reached = max(self.ctrl.wizard_reached, self.step)

    def go_back(self) -> None:
        if self.step > 0:
            self.go(STEPS[self.step - 1][0])

    def go_next(self) -> None:
        if not self.next_enabled:
            return
        if self.before_next() is not False and self.step + 1 < len(STEPS):
            self.go(STEPS[self.step + 1][0])

    def before_next(self) -> bool | None:
        """Called before moving on; return False to stay."""
        return None
