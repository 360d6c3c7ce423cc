"""The Kivy application object. Screens and the controller are added as the app grows."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.label import Label


class PeftStudioApp(App):
    title = "PEFT Studio"

    def build(self) -> Label:
        return Label(text="PEFT Studio", font_size="32sp")
