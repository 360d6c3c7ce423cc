"""Text whose technical words are glossary terms: underlined, explained on hover, long-press or tap.

`link_terms` (pure) turns plain text into Kivy markup with one ``[ref]`` per term (the first time each
term appears); `GlossaryLabel` shows it and opens the term's definition and example as a tooltip.
The definitions come from `peftstudio.glossary`, the same data as ``docs/glossary.md``.

Example:
    >>> text, found = link_terms("LoRA trains a small adapter.")
    >>> found
    ['LoRA', 'Adapter']
"""

from __future__ import annotations

import re
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.label import Label
from kivy.utils import escape_markup

from app import theme
from app.widgets.tooltip import TooltipBehavior, show_tooltip
from peftstudio import glossary

LINK_COLOUR = "9ec1ff"  # light accent: 8:1 contrast on the background

Builder.load_string("""
#:import theme app.theme
<GlossaryLabel>:
    markup: True
    color: theme.TEXT
    font_size: theme.BODY
    text_size: self.width, None
    size_hint_y: None
    height: self.texture_size[1]
""")


def _pattern() -> re.Pattern[str]:
    names = sorted({n for t in glossary.GLOSSARY for n in (t.term, *t.aliases) if len(n) >= 3}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.IGNORECASE)


_PATTERN = _pattern()


def link_terms(plain: str, *, colour: str = LINK_COLOUR) -> tuple[str, list[str]]:
    """Markup for `plain` with the first mention of each glossary term as a ``[ref]``; and the terms found."""
    out: list[str] = []
    found: list[str] = []
    last = 0
    for match in _PATTERN.finditer(plain):
        term = glossary.lookup(match.group(1))
        if term is None or term.term in found:
            continue
        found.append(term.term)
        out.append(escape_markup(plain[last:match.start()]))
        out.append(f"[ref={term.anchor}][color={colour}][u]{escape_markup(match.group(1))}[/u][/color][/ref]")
        last = match.end()
    out.append(escape_markup(plain[last:]))
    return "".join(out), found


def term_text(anchor_or_word: str) -> str | None:
    """The tooltip text (markup) of a term given by its anchor or any of its names."""
    term = next((t for t in glossary.GLOSSARY if t.anchor == anchor_or_word), None) or glossary.lookup(anchor_or_word)
    if term is None:
        return None
    return (f"[b]{escape_markup(term.term)}[/b]\n{escape_markup(term.definition)}\n"
            f"[color={theme.hex_colour(theme.MUTED)}][i]Example: {escape_markup(term.example)}[/i][/color]")


class GlossaryLabel(TooltipBehavior, Label):
    """A wrapping label: set `plain` (not `text`); glossary terms in it get their tooltip."""

    plain = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.terms: list[str] = []
        self.on_plain(self, self.plain)

    def on_plain(self, _inst: Any, value: str) -> None:
        self.text, self.terms = link_terms(value)

    def ref_at(self, window_pos: tuple[float, float]) -> str | None:
        """The ref (term anchor) under a window position, if any."""
        tx, ty = self.to_widget(*window_pos)
        tx -= self.center_x - self.texture_size[0] / 2.0
        ty -= self.center_y - self.texture_size[1] / 2.0
        ty = self.texture_size[1] - ty
        for name, zones in self.refs.items():
            for x1, y1, x2, y2 in zones:
                if x1 <= tx <= x2 and y1 <= ty <= y2:
                    return str(name)
        return None

    def ref_centre(self, anchor: str) -> tuple[float, float]:
        """Window position of the middle of a term's first mention (for tests and keyboard help)."""
        x1, y1, x2, y2 = self.refs[anchor][0]
        left = self.center_x - self.texture_size[0] / 2.0
        top = self.center_y + self.texture_size[1] / 2.0
        return self.to_window(left + (x1 + x2) / 2.0, top - (y1 + y2) / 2.0)

    def tooltip_at(self, window_pos: tuple[float, float]) -> str | None:
        anchor = self.ref_at(window_pos)
        return term_text(anchor) if anchor else (self.tooltip_text or None)

    def on_ref_press(self, anchor: str) -> None:
        # A tap on a term opens its definition at once (touch screens have no hover).
        text = term_text(anchor)
        if text and self.refs.get(anchor):
            show_tooltip(self, text, self.ref_centre(anchor))


class GlossaryTerm(GlossaryLabel):
    """A single term on its own, e.g. beside a setting's name: ``GlossaryTerm: plain: "Learning rate"``."""
