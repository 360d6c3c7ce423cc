"""Use case: the task profiles as cards, each with its examples and the estimate for this computer."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior, FocusBehavior
from kivy.uix.boxlayout import BoxLayout

from app.screens.base import WizardScreen, load_kv

load_kv(__file__)


class ProfileCard(FocusBehavior, ButtonBehavior, BoxLayout):
    """One profile; pressing it (or Enter when focused) chooses it."""

    profile_id = StringProperty("")
    title = StringProperty("")
    description = StringProperty("")
    examples = ListProperty([])
    estimate = StringProperty("")
    selected = BooleanProperty(False)

    def keyboard_on_key_down(self, window: Any, keycode: tuple[int, str], text: str, modifiers: list[str]) -> bool:
        if keycode[1] in ("enter", "numpadenter", "spacebar"):
            self.trigger_action(0.05)
            return True
        return bool(super().keyboard_on_key_down(window, keycode, text, modifiers))


class UseCaseScreen(WizardScreen):
    def setup(self) -> None:
        self.ctrl.bind(profiles=self.refresh, profile_estimates=self.refresh, profile_id=self.refresh)
        self.refresh()

    def on_size(self, *_: Any) -> None:
        grid = self.ids.get("cards")
        if grid is not None:
            grid.cols = 3 if self.width >= 1600 else 2

    def refresh(self, *_: Any) -> None:
        grid = self.ids.cards
        self.next_enabled = bool(self.ctrl.profile_id)
        self.hint = "" if self.next_enabled else "Choose what the model should do."
        by_id = {c.profile_id: c for c in grid.children}
        if set(by_id) != {p.id for p in self.ctrl.profiles}:
            grid.clear_widgets()
            for p in self.ctrl.profiles:
                card = ProfileCard(profile_id=p.id, title=p.title, description=p.description,
                                   examples=list(p.examples))
                card.bind(on_release=lambda c: self.ctrl.choose_profile(c.profile_id))
                grid.add_widget(card)
            by_id = {c.profile_id: c for c in grid.children}
        for pid, card in by_id.items():
            card.selected = pid == self.ctrl.profile_id
            card.estimate = self.ctrl.profile_estimates.get(pid, "Estimating for this computer...")
