"""The error dialog: the catalog's plain title and explanation, 2-3 actions that fix the problem or show
the steps to do so, "Get help" (the error's section of docs/errors.md) and Close. Never a traceback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView

from app.screens.base import load_kv
from app.widgets.action_button import StudioButton

load_kv(__file__)


class ErrorDialog(ModalView):
    """Shows `info` (an `ErrorInfo`); `ctrl.apply_action` does what an automatic action says."""

    info = ObjectProperty(None)
    ctrl = ObjectProperty(None)
    title = StringProperty("")
    explanation = StringProperty("")
    steps_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title, self.explanation = self.info.title, self.info.explanation
        box = self.ids.actions
        for i, action in enumerate(self.info.actions[:3]):
            button = StudioButton(text=action.label, wrap=True, kind="primary" if i == 0 else "secondary")
            button.bind(on_release=lambda _b, a=action: self.act(a))
            box.add_widget(button)

    def act(self, action: Any) -> None:
        if self.ctrl.apply_action(action):
            self.dismiss()
        else:
            self.steps_text = f"{action.label}:\n" + "\n".join(f"{i}.  {s}" for i, s in enumerate(action.steps, 1))

    def get_help(self) -> None:
        self.ids.help_button.text = "Opened the help page"
        self.ctrl.open_help(self.info)

    def close(self) -> None:
        self.ctrl.clear_error()
        self.dismiss()


class StepsDialog(ModalView):
    title = StringProperty("")
    steps_text = StringProperty("")


def show_steps(title: str, steps: Sequence[str]) -> StepsDialog:
    """A small dialog listing what to do by hand."""
    dialog = StepsDialog(title=title, steps_text="\n".join(f"{i}.  {s}" for i, s in enumerate(steps, 1)))
    dialog.open()
    return dialog
