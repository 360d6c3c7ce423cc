""""Save as preset" at the end of the wizard: a dialog asking for a name, tags and a note.

The review screen opens it (`open_save_preset(ctrl)`); saving goes through the controller
(`ctrl.save_wizard_as_preset`), a refused name is explained in the dialog, and it closes once saved.

Example (kv):
    StudioButton:
        text: "Save as preset..."
        on_release: open_save_preset(root.ctrl)
"""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<PresetInput@TextInput>:
    multiline: False
    write_tab: False
    size_hint_y: None
    height: theme.TOUCH
    font_size: theme.BODY
    padding: dp(10), dp(12)
    background_color: theme.SURFACE_HIGH
    foreground_color: theme.TEXT
    cursor_color: theme.TEXT
    hint_text_color: theme.MUTED
<SavePresetDialog>:
    size_hint: 0.56, None
    height: box.minimum_height
    auto_dismiss: False
    background_color: 0, 0, 0, 0.6
    BoxLayout:
        id: box
        orientation: 'vertical'
        padding: dp(24)
        spacing: dp(10)
        canvas.before:
            Color:
                rgba: theme.SURFACE
            Rectangle:
                pos: self.pos
                size: self.size
        Heading:
            plain: "Save these settings as a preset"
        Muted:
            plain: "A preset keeps the use case, the model and every setting, so you can train the same way again or share them as a file."
        Body:
            plain: "Name"
        PresetInput:
            id: name_input
            hint_text: "e.g. Pirate chatbot, small and quick"
            text: root.default_name
            on_text_validate: root.save()
        Body:
            plain: "Tags (optional, separated by commas)"
        PresetInput:
            id: tags
            hint_text: "e.g. chatbot, quick test"
            on_text_validate: root.save()
        Body:
            plain: "Note (optional)"
        PresetInput:
            id: notes
            hint_text: "What this preset is good for"
            on_text_validate: root.save()
        Label:
            text: root.problem
            color: theme.BAD
            font_size: theme.SMALL
            text_size: self.width, None
            size_hint_y: None
            height: self.texture_size[1] if self.text else 0
        BoxLayout:
            size_hint_y: None
            height: theme.TOUCH
            spacing: dp(12)
            Widget:
            StudioButton:
                text: "Cancel"
                on_release: root.dismiss()
            StudioButton:
                id: save_button
                text: "Save preset"
                kind: 'primary'
                disabled: not name_input.text
                on_release: root.save()
""")


class SavePresetDialog(ModalView):
    """The dialog; `problem` shows why the controller refused to save (e.g. the name is taken)."""

    ctrl = ObjectProperty(None)
    default_name = StringProperty("")
    problem = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._waiting = False
        self.ctrl.preset_error = None
        self.ctrl.bind(preset_busy=self._settled)

    def save(self) -> None:
        name = self.ids.name_input.text.strip()
        if not name or self._waiting:
            return
        self.problem = ""
        self._waiting = True
        self.ctrl.save_wizard_as_preset(name, self.ids.tags.text, self.ids.notes.text)
        if not self.ctrl.preset_busy:  # refused at once (nothing planned yet)
            self._settled()

    def _settled(self, *_: Any) -> None:
        if not self._waiting or self.ctrl.preset_busy:
            return
        self._waiting = False
        error = self.ctrl.preset_error
        if error is None:
            self.dismiss()
        else:
            self.problem = f"{error.title}. {error.explanation}"

    def on_dismiss(self) -> None:
        self.ctrl.unbind(preset_busy=self._settled)


def open_save_preset(ctrl: Any) -> SavePresetDialog:
    """Open the dialog over the current screen, the name prefilled with the run's planned name."""
    dialog = SavePresetDialog(ctrl=ctrl, default_name=ctrl.plan_name())
    dialog.open()
    return dialog
