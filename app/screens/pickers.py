"""A file chooser in a popup, used by the model and data screens (drag-and-drop works too)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.modalview import ModalView

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<FilePicker>:
    size_hint: 0.85, 0.85
    auto_dismiss: True
    background_color: 0, 0, 0, 0.6
    BoxLayout:
        orientation: 'vertical'
        padding: dp(16)
        spacing: dp(10)
        canvas.before:
            Color:
                rgba: theme.SURFACE
            Rectangle:
                pos: self.pos
                size: self.size
        Heading:
            plain: root.title
        FileChooserListView:
            id: chooser
            path: root.start
            dirselect: root.dirselect
            filters: root.filters if not root.dirselect else []
        BoxLayout:
            size_hint_y: None
            height: theme.TOUCH
            spacing: dp(12)
            Widget:
            StudioButton:
                text: "Cancel"
                on_release: root.dismiss()
            StudioButton:
                text: "Use this"
                kind: 'primary'
                disabled: not chooser.selection
                on_release: root.choose(chooser.selection)
""")


class FilePicker(ModalView):
    title = StringProperty("")
    start = StringProperty(str(Path.home()))
    dirselect = BooleanProperty(False)
    filters = ListProperty([])

    def __init__(self, on_chosen: Callable[[str], Any], **kwargs: Any) -> None:
        self.on_chosen = on_chosen
        super().__init__(**kwargs)

    def choose(self, selection: list[str]) -> None:
        if selection:
            self.dismiss()
            self.on_chosen(selection[0])


def open_file_picker(title: str, on_chosen: Callable[[str], Any], *, dirselect: bool = False,
                     filters: list[str] | None = None, start: str | None = None) -> FilePicker:
    picker = FilePicker(on_chosen, title=title, dirselect=dirselect, filters=filters or [],
                        start=start or str(Path.home()))
    picker.open()
    return picker
