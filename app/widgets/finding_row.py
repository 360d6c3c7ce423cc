"""One data-check finding: its severity, the message, the rows it is about, how to fix it, and a Fix button.

Example (Python):
    row = FindingRow(severity="error", message="3 rows are not valid JSON.", rows_text="Rows 4, 9, 12",
                     fix_text="Drop the broken rows.", fix_id="drop_malformed")
    row.bind(on_fix=lambda row, fix_id: controller.apply_fix(fix_id))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.lang import Builder
from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from app import theme

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<FindingRow>:
    size_hint_y: None
    height: max(self.minimum_height, theme.TOUCH)
    padding: dp(12), dp(10)
    spacing: dp(12)
    canvas.before:
        Color:
            rgba: theme.SURFACE
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(8)]
        Color:
            rgba: root.colour
        Rectangle:
            pos: self.x, self.y
            size: dp(5), self.height
    Label:
        text: root.severity_word
        bold: True
        color: root.colour
        font_size: theme.SMALL
        size_hint: None, None
        size: dp(72), dp(24)
        pos_hint: {'top': 1}
        text_size: self.size
        halign: 'left'
        valign: 'top'
    BoxLayout:
        orientation: 'vertical'
        size_hint_y: None
        height: self.minimum_height
        spacing: dp(4)
        pos_hint: {'top': 1}
        Body:
            plain: root.message
        Muted:
            plain: root.rows_text
            height: self.texture_size[1] if root.rows_text else 0
        Muted:
            plain: root.fix_text
            height: self.texture_size[1] if root.fix_text else 0
    StudioButton:
        id: fix_button
        text: 'Fix it'
        kind: 'primary'
        opacity: 1 if root.fix_id else 0
        disabled: not root.fix_id
        size_hint_x: None
        width: dp(112) if root.fix_id else 0
        pos_hint: {'center_y': 0.5}
        on_release: root.dispatch('on_fix', root.fix_id)
""")

SEVERITY_WORDS = {"error": "Problem", "warning": "Warning", "info": "Note"}


def rows_text(rows: Sequence[int], count: int) -> str:
    """``Rows 3, 9 and 4 more`` wording for a finding's rows.

    Example:
        >>> rows_text([3, 9, 12], 5)
        'Rows 3, 9, 12 and 2 more'
        >>> rows_text([], 0)
        ''
    """
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows[:12])
    more = max(count, len(rows)) - min(len(rows), 12)
    word = "Row" if len(rows) == 1 and count <= 1 else "Rows"
    return f"{word} {shown}" + (f" and {more} more" if more > 0 else "")


class FindingRow(BoxLayout):
    """A finding; dispatches ``on_fix(fix_id)`` when its Fix button is pressed."""

    severity = StringProperty("info")
    severity_word = StringProperty("Note")
    message = StringProperty("")
    rows_text = StringProperty("")
    fix_text = StringProperty("")
    fix_id = StringProperty("")
    colour = ListProperty(list(theme.ACCENT))
    __events__ = ("on_fix",)

    def on_severity(self, _inst: Any, value: str) -> None:
        self.colour = list(theme.SEVERITY_COLOURS.get(value, theme.ACCENT))
        self.severity_word = SEVERITY_WORDS.get(value, value.title())

    def on_fix(self, fix_id: str) -> None:
        pass
