"""Text styles used on every screen: titles, headings, body text (with glossary terms), muted notes."""

from __future__ import annotations

from kivy.lang import Builder

from app.widgets.glossary_term import GlossaryLabel

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<Title>:
    font_size: theme.TITLE
    bold: True
<Heading>:
    font_size: theme.HEADING
    bold: True
<Muted>:
    color: theme.MUTED
    font_size: theme.SMALL
<Card@BoxLayout>:
    orientation: 'vertical'
    padding: theme.PAD
    spacing: dp(8)
    size_hint_y: None
    height: self.minimum_height
    canvas.before:
        Color:
            rgba: theme.SURFACE
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(10)]
""")


class Title(GlossaryLabel):
    """A screen's title."""


class Heading(GlossaryLabel):
    """A section heading."""


class Body(GlossaryLabel):
    """Ordinary text."""


class Muted(GlossaryLabel):
    """Secondary text: reasons, hints, units."""
