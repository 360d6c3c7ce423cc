"""Tooltips: hover with a mouse (desktop) or press and hold (touch) to read a short explanation.

`TooltipBehavior` is a mixin: set `tooltip_text`, or override `tooltip_at(pos)` to return a text that
depends on where the pointer is (the glossary text does this for each underlined word). Only one
tooltip is open at a time; it closes when the pointer leaves, or at the next touch.

Example (kv):
    TooltipButton:
        text: "Rank"
        tooltip_text: "How much the adapter can learn."
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.label import Label

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<TooltipBubble>:
    markup: True
    color: theme.TEXT
    font_size: theme.SMALL
    size_hint: None, None
    text_size: dp(340), None
    size: self.texture_size[0] + dp(24), self.texture_size[1] + dp(20)
    padding: dp(12), dp(10)
    canvas.before:
        Color:
            rgba: 0.05, 0.06, 0.08, 0.97
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(8)]
        Color:
            rgba: theme.ACCENT
        Line:
            rounded_rectangle: (self.x, self.y, self.width, self.height, dp(8))
            width: dp(1)
""")

HOVER_DELAY = 0.45  # seconds the mouse must rest before a tooltip opens
LONG_PRESS = 0.5  # seconds a finger must stay down


class TooltipBubble(Label):
    """The floating box that shows a tooltip's text."""


class _Shown:
    bubble: TooltipBubble | None = None
    owner: Any = None


def show_tooltip(owner: Any, text: str, pos: tuple[float, float]) -> TooltipBubble:
    """Open the tooltip with `text` near window position `pos` (closing any other)."""
    hide_tooltip()
    bubble = TooltipBubble(text=text)
    bubble.texture_update()
    w, h = bubble.texture_size[0] + dp(24), bubble.texture_size[1] + dp(20)
    x = min(max(pos[0] + dp(12), 0), Window.width - w)
    y = pos[1] + dp(16)
    if y + h > Window.height:
        y = max(pos[1] - h - dp(16), 0)
    bubble.pos = (x, y)
    Window.add_widget(bubble)
    _Shown.bubble, _Shown.owner = bubble, owner
    return bubble


def hide_tooltip(owner: Any = None) -> None:
    """Close the open tooltip (only if `owner` opened it, when given)."""
    if _Shown.bubble is not None and (owner is None or owner is _Shown.owner):
        if _Shown.bubble.parent is not None:
            _Shown.bubble.parent.remove_widget(_Shown.bubble)
        _Shown.bubble, _Shown.owner = None, None


def current_tooltip() -> str | None:
    """The text of the open tooltip, if any (used by tests and by screen readers' hooks)."""
    return _Shown.bubble.text if _Shown.bubble is not None else None


class TooltipBehavior:
    """Mixin for widgets with a tooltip on hover and on long-press."""

    tooltip_text = StringProperty("")
    tooltip_delay = NumericProperty(HOVER_DELAY)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hover_event: Any = None
        self._press_event: Any = None
        self._hover_pos: tuple[float, float] | None = None
        Window.bind(mouse_pos=self._on_mouse_pos)

    def tooltip_at(self, window_pos: tuple[float, float]) -> str | None:
        """The tooltip for a pointer at `window_pos`; by default `tooltip_text` anywhere on the widget."""
        return self.tooltip_text or None

    def _inside(self, window_pos: tuple[float, float]) -> bool:
        if self.get_root_window() is None:  # type: ignore[attr-defined]
            return False
        return bool(self.collide_point(*self.to_widget(*window_pos)))  # type: ignore[attr-defined]

    def _on_mouse_pos(self, _window: Any, pos: tuple[float, float]) -> None:
        if not self._inside(pos):
            if self._hover_event is not None:
                self._hover_event.cancel()
                self._hover_event = None
            if self._hover_pos is not None:
                self._hover_pos = None
                hide_tooltip(self)
            return
        self._hover_pos = pos
        text = self.tooltip_at(pos)
        if not text:
            hide_tooltip(self)
            return
        if _Shown.owner is self and _Shown.bubble is not None and _Shown.bubble.text == text:
            return
        if self._hover_event is not None:
            self._hover_event.cancel()
        self._hover_event = Clock.schedule_once(lambda _dt: self._show_at(pos), self.tooltip_delay)

    def _show_at(self, pos: tuple[float, float]) -> None:
        self._hover_event = None
        text = self.tooltip_at(pos)
        if text:
            show_tooltip(self, text, pos)

    def on_touch_down(self, touch: Any) -> bool:
        hide_tooltip()
        if self.collide_point(*touch.pos):  # type: ignore[attr-defined]
            pos = self.to_window(*touch.pos)  # type: ignore[attr-defined]
            self._press_event = Clock.schedule_once(lambda _dt: self._show_at(pos), LONG_PRESS)
        return bool(super().on_touch_down(touch))  # type: ignore[misc]

    def on_touch_up(self, touch: Any) -> bool:
        if self._press_event is not None:
            self._press_event.cancel()
            self._press_event = None
        return bool(super().on_touch_up(touch))  # type: ignore[misc]
