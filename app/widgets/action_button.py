"""A button that is easy to hit (at least 48 dp), reachable with Tab and pressed with Enter or Space.

Example (kv):
    StudioButton:
        text: "Next"
        kind: "primary"
        on_release: root.go_next()
"""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import AliasProperty, BooleanProperty, OptionProperty
from kivy.uix.behaviors import FocusBehavior
from kivy.uix.button import Button

from app import theme

KIND_COLOURS = {
    "primary": theme.ACCENT_DARK,
    "secondary": theme.SURFACE_HIGH,
    "danger": (0.62, 0.20, 0.20, 1),
    "good": (0.15, 0.45, 0.27, 1),
    "ghost": (0, 0, 0, 0),
}

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<StudioButton>:
    background_normal: ''
    background_down: ''
    background_disabled_normal: ''
    background_disabled_down: ''
    background_color: self.fill if not self.disabled else theme.SURFACE
    color: theme.TEXT if not self.disabled else theme.MUTED
    font_size: theme.BODY
    halign: 'center'
    valign: 'middle'
    size_hint_y: None
    size_hint_x: 1 if self.wrap else None
    text_size: (self.width - dp(24), None) if self.wrap else (None, None)
    width: self.width if self.wrap else max(dp(112), self.texture_size[0] + dp(36))
    height: max(theme.TOUCH, self.texture_size[1] + dp(20))
    canvas.after:
        Color:
            rgba: theme.FOCUS if self.focus else (0, 0, 0, 0)
        Line:
            rectangle: (self.x + dp(1), self.y + dp(1), self.width - dp(2), self.height - dp(2))
            width: dp(1.5)
        Color:
            rgba: (1, 1, 1, 0.12) if self.state == 'down' else (0, 0, 0, 0)
        Rectangle:
            pos: self.pos
            size: self.size
""")


class StudioButton(FocusBehavior, Button):
    """`kind` picks the colour (primary, secondary, danger, good, ghost); `wrap` lets long labels wrap."""

    kind = OptionProperty("secondary", options=list(KIND_COLOURS))
    wrap = BooleanProperty(False)

    fill = AliasProperty(lambda self: KIND_COLOURS[self.kind], None, bind=["kind"])

    def keyboard_on_key_down(self, window: Any, keycode: tuple[int, str], text: str, modifiers: list[str]) -> bool:
        if keycode[1] in ("enter", "numpadenter", "spacebar") and not self.disabled:
            self.trigger_action(0.05)
            return True
        return bool(super().keyboard_on_key_down(window, keycode, text, modifiers))
