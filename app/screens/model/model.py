"""Model: the suggested models for the profile, each marked as fitting on this computer or not
(built-ins first: they work offline), and a model folder or .gguf file from this computer."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, DictProperty
from kivy.uix.boxlayout import BoxLayout

from app.screens.base import WizardScreen, load_kv
from app.screens.pickers import open_file_picker

load_kv(__file__)


class ModelRow(BoxLayout):
    option = DictProperty({})
    selected = BooleanProperty(False)


class ModelScreen(WizardScreen):
    def setup(self) -> None:
        self.ctrl.bind(models=self.refresh, model_ref=self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        box = self.ids.models
        box.clear_widgets()
        for option in self.ctrl.models:
            row = ModelRow(option=option, selected=option["reference"] == self.ctrl.model_ref)
            row.ids.choose.bind(on_release=lambda _b, ref=option["reference"]: self.ctrl.choose_model(ref))
            box.add_widget(row)
        chosen = next((m for m in self.ctrl.models if m["reference"] == self.ctrl.model_ref), None)
        self.next_enabled = bool(chosen and chosen["fits"])
        self.hint = "" if self.next_enabled else (
            "Choose a model that fits on this computer." if chosen else "Choose a model.")

    def pick_local(self) -> None:
        open_file_picker("Choose a model folder or a .gguf file", self.ctrl.choose_model_path, dirselect=True,
                         filters=["*.gguf"])
