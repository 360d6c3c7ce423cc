"""Playground: ask the trained model and the original one the same question and read both answers side
by side as they stream in; example prompts as chips; generation settings behind "Advanced"; the run's
saved exchanges, browsable. Everything comes from the controller (`app.control.playground`)."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from app import present_playground as words
from app import theme
from app.screens.base import BaseScreen, load_kv
from app.widgets.action_button import StudioButton
from app.widgets.prompt_chip import PromptChip

load_kv(__file__)


class AnswerPanel(BoxLayout):
    """One model's answer: a title in the model's colour, the streaming text, and its timing."""

    title = StringProperty("")
    note = StringProperty("")
    answer = StringProperty("")
    stats = StringProperty("")
    placeholder = StringProperty("")
    accent = ListProperty(list(theme.ACCENT))

    def on_answer(self, *_: Any) -> None:
        Clock.schedule_once(self._follow_end)  # after the label has its new height

    def _follow_end(self, *_: Any) -> None:
        """Keep the newest words in view as they stream in (a short answer stays at the top)."""
        if "scroll" in self.ids:
            self.ids.scroll.scroll_y = 0 if self.ids.answer.height > self.ids.scroll.height else 1


class SettingField(BoxLayout):
    """One generation setting: its name, a field, and what it does; `on_change(text)` on Enter or leaving."""

    key = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")
    explanation = StringProperty("")
    __events__ = ("on_change",)

    def commit(self, text: str) -> None:
        if text.strip() != self.value:
            self.dispatch("on_change", text)

    def on_change(self, text: str) -> None:
        pass


class HistoryRow(BoxLayout):
    """A saved exchange; "Show" puts it back in the answer panes."""

    row = DictProperty({})
    selected = BooleanProperty(False)
    __events__ = ("on_show",)

    def on_show(self) -> None:
        pass


class PlaygroundScreen(BaseScreen):
    advanced = BooleanProperty(False)
    history_open = BooleanProperty(False)
    can_ask = BooleanProperty(False)

    def setup(self) -> None:
        c = self.ctrl
        self.fields: dict[str, SettingField] = {}
        c.bind(playground_examples=self.refresh_chips, playground_state=self.refresh_state,
               playground_run_id=self.refresh_state, generation=self.refresh_fields,
               compare_base=self.refresh_fields, playground_history=self.refresh_history,
               playground_prompt=self.refresh_history)
        self.refresh_chips()
        self.refresh_state()

    # ------------------------------------------------------------ asking
    def refresh_state(self, *_: Any) -> None:
        state = self.ctrl.playground_state
        self.can_ask = state in ("loading", "ready")

    def refresh_chips(self, *_: Any) -> None:
        box = self.ids.chips
        box.clear_widgets()
        for prompt in self.ctrl.playground_examples:
            chip = PromptChip(prompt=prompt)
            chip.bind(on_release=lambda c: self.ask(c.prompt))
            box.add_widget(chip)

    def ask_typed(self) -> None:
        if self.ask(self.ids.prompt.text):
            self.ids.prompt.text = ""

    def ask(self, prompt: str) -> bool:
        return bool(self.ctrl.ask(prompt))

    def export(self) -> None:
        self.ctrl.run_action(self.ctrl.playground_run_id, "export")

    # ------------------------------------------------------------ advanced settings
    def on_advanced(self, *_: Any) -> None:
        self.refresh_fields()
        if self.advanced:
            self._bring_into_view(self.ids.advanced_box)

    def _bring_into_view(self, box: Any) -> None:
        """Scroll so what was just opened below the answers can be seen (after it is laid out)."""

        def scroll(_dt: float) -> None:
            if box.children and self.ids.body.height > self.ids.scroll.height:
                self.ids.scroll.scroll_to(box.children[-1], padding=theme.TOUCH * 2, animate=False)

        Clock.schedule_once(scroll, 0.05)

    def _build_fields(self) -> None:
        """The fields, made once (they keep their bindings while the expander is closed)."""
        for key, (label, explanation) in words.GENERATION_FIELDS.items():
            field = SettingField(key=key, label=label, explanation=explanation)
            field.bind(on_change=lambda f, text: self.ctrl.set_generation(f.key, text))
            self.fields[key] = field
        self.base_toggle = StudioButton()
        self.base_toggle.bind(on_release=lambda _b: setattr(self.ctrl, "compare_base", not self.ctrl.compare_base))
        self.reset_button = StudioButton(text="Back to the defaults")
        self.reset_button.bind(on_release=lambda _b: self.ctrl.reset_generation())

    def refresh_fields(self, *_: Any) -> None:
        box = self.ids.advanced_box
        if not self.advanced:
            box.clear_widgets()
            return
        if not self.fields:
            self._build_fields()
        if not box.children:
            for field in self.fields.values():
                box.add_widget(field)
            row = BoxLayout(size_hint_y=None, height=theme.TOUCH, spacing=theme.GAP)
            for w in (self.base_toggle, self.reset_button, BoxLayout()):
                row.add_widget(w)
            box.add_widget(row)
        for key, field in self.fields.items():
            field.value = words.setting_text(self.ctrl.generation[key])
            field.ids.field.text = field.value
        self.base_toggle.text = ("Also ask the original model: on" if self.ctrl.compare_base else
                                 "Also ask the original model: off")

    # ------------------------------------------------------------ history
    def on_history_open(self, *_: Any) -> None:
        self.refresh_history()
        if self.history_open:
            self._bring_into_view(self.ids.history_box)

    def refresh_history(self, *_: Any) -> None:
        box = self.ids.history_box
        box.clear_widgets()
        if not self.history_open:
            return
        rows = list(reversed(self.ctrl.playground_history))  # newest first
        if not rows:
            from app.widgets.text import Muted

            box.add_widget(Muted(plain="Nothing saved yet: every question you ask here is kept with this run."))
            return
        for row in rows:
            item = HistoryRow(row=row, selected=row["prompt"] == self.ctrl.playground_prompt and
                              row["tuned"] == self.ctrl.tuned_answer)
            item.bind(on_show=lambda r: self.show_saved(r.row["id"]))
            box.add_widget(item)

    def show_saved(self, exchange_id: int) -> None:
        self.ctrl.show_exchange(exchange_id)
        self.refresh_history()
        self.ids.scroll.scroll_y = 1  # the answers are at the top
