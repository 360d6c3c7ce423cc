"""Shared widgets and app-wide behaviour: glossary terms (hover, long-press, tap), tooltips, gauges,
the loss chart's zones, touch-target sizes and keyboard use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kivy.metrics import dp

from app import theme
from app.widgets.action_button import StudioButton
from app.widgets.finding_row import rows_text
from app.widgets.gauge import colour_for
from app.widgets.glossary_term import GlossaryLabel, link_terms
from app.widgets.loss_chart import loss_zones, nice_step
from app.widgets.tooltip import current_tooltip, hide_tooltip
from tests.app.harness import Ui, frames, probed_ui


@pytest.fixture()
def ui() -> Iterator[Ui]:
    with probed_ui() as ui:
        yield ui


@pytest.mark.parametrize(("text", "terms"), [
    ("LoRA trains a small adapter.", ["LoRA", "Adapter"]),
    ("The learning rate and the Learning Rate", ["Learning rate"]),  # once per label
    ("Epochs, then epoch", ["Epoch"]),
    ("A lorax is not LoRA-like", []),  # whole words only
    ("Use [b]markup[/b] safely", []),
])
def test_link_terms(text: str, terms: list[str]) -> None:
    markup, found = link_terms(text)
    assert found == terms
    assert markup.count("[ref=") == len(terms)
    assert "&bl;b&br;" in markup or "[b]" not in text  # text that looks like markup is escaped


@pytest.mark.parametrize(("value", "colour"), [(-1, (0, 0, 0, 0)), (10, theme.GOOD), (85, theme.WARN),
                                               (97, theme.BAD)])
def test_gauge_colours(value: float, colour: tuple[float, ...]) -> None:
    assert colour_for(value, 80, 92) == colour


@pytest.mark.parametrize(("first", "zones"), [(2.0, (1.5, 2.0)), (0.0, (0.0, 0.0)), (float("nan"), (0.0, 0.0))])
def test_loss_zones(first: float, zones: tuple[float, float]) -> None:
    assert loss_zones(first) == zones


@pytest.mark.parametrize(("span", "step"), [(100, 20.0), (10, 2.0), (3.2, 1.0), (0.5, 0.1), (0, 1.0), (7, 2.0)])
def test_nice_step(span: float, step: float) -> None:
    assert nice_step(span) == step


def test_rows_text() -> None:
    assert rows_text([4], 1) == "Row 4"
    assert rows_text(list(range(1, 20)), 30).endswith("and 18 more")


def test_glossary_term_on_hover_and_long_press(ui: Ui) -> None:
    ui.show("welcome")  # (the app opens on home; the welcome text explains fine-tuning)
    label = next(w for w in ui.find(GlossaryLabel) if "fine-tuning" in w.refs)
    x, y = label.ref_centre("fine-tuning")
    ui.window.mouse_pos = (x, y)
    ui.wait(lambda: current_tooltip(), 5, "the hover tooltip")
    assert "Fine-tuning" in current_tooltip() and "Example:" in current_tooltip()
    ui.shot("glossary-tooltip")
    ui.window.mouse_pos = (5, 5)
    frames(2)
    assert current_tooltip() is None
    ui.tap_at(x, y, hold=0.8)  # press and hold on a touch screen
    assert current_tooltip() and "Fine-tuning" in current_tooltip()
    hide_tooltip()


def test_setting_names_have_plain_tooltips(ui: Ui) -> None:
    ui.ctrl.choose_profile("chatbot")
    ui.ctrl.choose_model("builtin:tiny-llama")
    ui.root.current = "settings"
    frames(5)
    from app.screens.settings.settings import SettingRow

    rows = ui.find(SettingRow)
    assert rows and all(r.tip for r in rows)
    name = next(w for w in ui.find(GlossaryLabel, rows[0]) if w.tooltip_text)
    ui.tap_at(*name.to_window(name.right - 2, name.center_y), hold=0.8)  # right of the word: the setting's tip
    assert current_tooltip() == name.tooltip_text
    hide_tooltip()


def test_the_settings_screen_builds_its_rows_from_the_settings_schema(ui: Ui) -> None:
    from kivy.uix.spinner import Spinner
    from kivy.uix.textinput import TextInput

    from app.screens.settings.settings import SettingRow
    from peftstudio.settings import SETTINGS, spec

    ui.ctrl.choose_profile("chatbot")
    ui.ctrl.choose_model("builtin:tiny-llama")
    ui.show("settings")
    assert {r.key for r in ui.find(SettingRow)} == {s.key for s in SETTINGS if s.main}
    ui.screen.advanced = True
    frames(3)
    rows = {r.key: r for r in ui.find(SettingRow)}
    assert set(rows) == set(ui.ctrl.plan.settings)
    assert (rows["lora_rank"].name, rows["lora_rank"].tip) == (spec("lora_rank").label, spec("lora_rank").help)
    assert isinstance(rows["precision"].editor, Spinner) and \
        list(rows["precision"].editor.values) == list(spec("precision").choices)
    assert isinstance(rows["packing"].editor, StudioButton) and isinstance(rows["learning_rate"].editor, TextInput)
    assert rows["steps"].editor is None  # worked out by the plan, never typed in


def test_every_button_is_a_comfortable_touch_target(ui: Ui) -> None:
    ui.ctrl.choose_profile("chatbot")
    ui.ctrl.choose_model("builtin:tiny-llama")
    for name in ui.root.screen_names:
        ui.root.current = name
        frames(4)
        for button in ui.find(StudioButton, ui.screen):
            if button.opacity and button.width:
                assert button.height >= dp(48) - 0.5 and button.width >= dp(48), (name, button.text)


def test_keyboard_tab_enter_and_escape(ui: Ui) -> None:
    # Keys are given to the focused widget as the window's keyboard would (the window's own routing
    # of the one system keyboard is shared by every test in this process).
    ui.show("welcome")
    start = ui.button("Let's start")
    start.focus = True
    frames(2)
    assert start.keyboard_on_key_down(ui.window, (13, "enter"), "", []) is True  # Enter presses it
    ui.wait(lambda: ui.root.current == "usecase", 5, "the press (released after 0.05 s)")
    start.focus = False
    ui.key(27)  # Escape (handled by the app for the whole window) goes back a step
    assert ui.root.current == "welcome"
    buttons = [b for b in ui.find(StudioButton, ui.screen) if not b.disabled and b.opacity]
    buttons[0].focus = True
    frames(1)
    buttons[0].keyboard_on_key_down(ui.window, (9, "tab"), "", [])  # Tab moves the focus on
    frames(1)
    assert not buttons[0].focus and any(b.focus for b in ui.find(StudioButton, ui.screen))
    for b in ui.find(StudioButton):
        b.focus = False


def test_usecase_cards_fit_at_tablet_size(ui: Ui) -> None:
    ui.root.current = "usecase"
    frames(4)
    cards = ui.screen.ids.cards
    assert cards.cols == 2 and all(c.right <= ui.window.width for c in cards.children)
