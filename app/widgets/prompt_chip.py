"""A tappable chip holding an example prompt: a short, rounded button that shows the start of the prompt.

The whole prompt is in `prompt`; the label shows at most `MAX_CHARS` characters so chips stay on one
line and wrap as a group (put them in a `StackLayout`).

Example:
    >>> chip_label("Write a Python function that reverses a string, then explain every line of it please.")
    'Write a Python function that reverses a string, then explain…'
"""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty

from app.widgets.action_button import StudioButton

MAX_CHARS = 60

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<PromptChip>:
    kind: 'ghost'
    font_size: theme.SMALL
    canvas.before:
        Color:
            rgba: theme.SURFACE_HIGH if self.state == 'normal' else theme.ACCENT_DARK
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [self.height / 2]
        Color:
            rgba: theme.ACCENT
        Line:
            rounded_rectangle: (self.x, self.y, self.width, self.height, self.height / 2)
            width: dp(1)
""")


def chip_label(prompt: str, limit: int = MAX_CHARS) -> str:
    """The start of `prompt` on one line, cut at a word with an ellipsis when it is long."""
    text = " ".join(prompt.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


class PromptChip(StudioButton):
    """An example prompt as a chip; `on_release` is the tap (the prompt is in `prompt`)."""

    prompt = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = chip_label(self.prompt)

    def on_prompt(self, *_: Any) -> None:
        self.text = chip_label(self.prompt)
