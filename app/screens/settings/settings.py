"""Settings: the smart defaults, each with its reason; "advanced" shows every setting with a field to
change it, and the plan is made again at once."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.spinner import Spinner
from kivy.uix.textinput import TextInput

from app import presenting as say
from app import theme
from app.present_presets import value_text
from app.screens.base import WizardScreen, load_kv
from app.widgets.action_button import StudioButton
from peftstudio.settings.schema import spec

load_kv(__file__)


class SettingRow(BoxLayout):
    key = StringProperty("")
    name = StringProperty("")
    tip = StringProperty("")
    value_text = StringProperty("")
    reason = StringProperty("")
    warning = StringProperty("")
    yours = BooleanProperty(False)
    editing = BooleanProperty(False)
    __events__ = ("on_change",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.editor: Any = None
        self.value: Any = None

    def set_setting(self, setting: Any) -> None:
        self.value = setting.value
        self.value_text = value_text(setting.value)
        self.reason = setting.reason
        self.warning = setting.warning or ""
        self.yours = setting.source == "user"
        self._sync_editor()

    def on_editing(self, *_: Any) -> None:
        holder = self.ids.editor_holder
        holder.clear_widgets()
        self.editor = None
        setting = spec(self.key)  # names, help, choices and whether it can be changed: the settings schema
        if not self.editing or setting.read_only:
            return
        if setting.choices:
            editor: Any = Spinner(values=setting.choices, size_hint=(None, None), width=160, height=theme.TOUCH,
                                  background_normal="", background_color=theme.SURFACE_HIGH, color=theme.TEXT)
            editor.bind(text=lambda _s, text: self.dispatch("on_change", text) if text != self.value_text else None)
        elif isinstance(self.value, bool):
            editor = StudioButton(text="Turn off" if self.value else "Turn on")
            editor.bind(on_release=lambda _b: self.dispatch("on_change", not self.value))
        else:
            editor = TextInput(multiline=False, size_hint=(None, None), width=160, height=theme.TOUCH,
                               font_size=theme.BODY, write_tab=False, padding=(10, 12),
                               background_color=theme.SURFACE_HIGH, foreground_color=theme.TEXT,
                               cursor_color=theme.TEXT)
            editor.bind(on_text_validate=lambda t: self.dispatch("on_change", t.text),
                        focus=lambda t, focused: None if focused else self._commit_text(t))
        self.editor = editor
        holder.add_widget(editor)
        self._sync_editor()

    def _commit_text(self, editor: TextInput) -> None:
        if editor.text.strip() != ("" if self.value is None else self.value_text):
            self.dispatch("on_change", editor.text)

    def _sync_editor(self) -> None:
        e = self.editor
        if isinstance(e, Spinner):
            e.text = self.value_text
        elif isinstance(e, StudioButton):
            e.text = "Turn off" if self.value else "Turn on"
        elif isinstance(e, TextInput) and not e.focus:
            e.text = "" if self.value is None else self.value_text

    def on_change(self, value: Any) -> None:
        pass


class SettingsScreen(WizardScreen):
    advanced = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        self.rows: dict[str, SettingRow] = {}
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.ctrl.bind(plan=self.refresh, setting_problem=self.refresh)
        self.refresh()

    def on_advanced(self, *_: Any) -> None:
        self.refresh()

    def refresh(self, *_: Any) -> None:
        plan = self.ctrl.plan
        box = self.ids.settings
        self.next_enabled = plan is not None and plan.memory.fits
        self.hint = "" if plan is None or plan.memory.fits else "These settings do not fit in memory."
        if plan is None:
            return
        keys = [k for k in plan.settings if self.advanced or spec(k).main]
        if [r.key for r in reversed(box.children)] != keys:
            box.clear_widgets()
            for key in keys:
                row = self.rows.get(key)
                if row is None:
                    row = SettingRow(key=key, name=spec(key).label, tip=spec(key).help)
                    row.bind(on_change=lambda r, value: self.ctrl.set_override(r.key, value))
                    self.rows[key] = row
                box.add_widget(row)
        for key in keys:
            self.rows[key].set_setting(plan.settings[key])  # first: the editor depends on the value's type
            self.rows[key].editing = self.advanced
        m = plan.memory
        self.ids.memory.plain = (f"Memory: about {say.gb(m.estimated_peak_bytes)} of the {say.gb(m.available_bytes)} "
                                 f"available on {plan.device_name}" + ("." if m.fits else ": this does NOT fit."))
        self.ids.warnings.text = "\n".join(plan.warnings)
