"""A banner across the top of the dashboard: a guard's plain message and its action buttons.

Example (Python):
    banner = Banner(title="Training became unstable", message="The loss jumped ...",
                    actions=[{"label": "Lower the learning rate", "fix_id": "lower_learning_rate"}])
    banner.bind(on_action=lambda banner, action: controller.apply_suggestion(action))
"""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from app import theme
from app.widgets.action_button import StudioButton

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<Banner>:
    orientation: 'vertical'
    size_hint_y: None
    height: self.minimum_height
    padding: dp(14), dp(10)
    spacing: dp(8)
    canvas.before:
        Color:
            rgba: root.colour[0] * 0.35, root.colour[1] * 0.35, root.colour[2] * 0.35, 1
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(8)]
        Color:
            rgba: root.colour
        Line:
            rounded_rectangle: (self.x, self.y, self.width, self.height, dp(8))
            width: dp(1.2)
    Heading:
        plain: root.title
    Body:
        plain: root.message
    Body:
        plain: root.advice
        font_size: theme.SMALL
        height: self.texture_size[1] if self.plain else 0
    StackLayout:
        id: buttons
        size_hint_y: None
        height: self.minimum_height
        spacing: dp(10)
""")


class Banner(BoxLayout):
    """`actions` is a list of dicts with at least ``label``; ``on_action(action)`` fires on a press."""

    title = StringProperty("")
    message = StringProperty("")
    advice = StringProperty("")  # the suggestions, one per line
    severity = StringProperty("warning")
    actions = ListProperty([])
    colour = ListProperty(list(theme.WARN))
    __events__ = ("on_action",)

    def on_kv_post(self, _base: Any) -> None:
        self.on_actions(self, self.actions)
        self.on_severity(self, self.severity)

    def on_severity(self, _inst: Any, value: str) -> None:
        self.colour = list(theme.SEVERITY_COLOURS.get(value, theme.WARN))

    def on_actions(self, _inst: Any, actions: list[dict[str, Any]]) -> None:
        box = self.ids.get("buttons")
        if box is None:
            return
        box.clear_widgets()
        for i, action in enumerate(actions):
            button = StudioButton(text=str(action.get("label", "OK")), kind="primary" if i == 0 else "secondary")
            button.bind(on_release=lambda _b, a=action: self.dispatch("on_action", a))
            box.add_widget(button)

    def on_action(self, action: dict[str, Any]) -> None:
        pass
