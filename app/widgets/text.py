"""Text styles used on every screen: titles, headings, body text (with glossary terms), muted notes;
and the card they sit on (`Surface`, and the kv class `Card`: a vertical `Surface` as tall as its content)."""

from __future__ import annotations

from kivy.lang import Builder
from kivy.uix.boxlayout import BoxLayout

from app.widgets.glossary_term import GlossaryLabel


class Surface(BoxLayout):
    """A box drawn as a card: the surface colour with rounded corners (tiles, charts, gauges, cards)."""


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
<Surface>:
    canvas.before:
        Color:
            rgba: theme.SURFACE
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(10)]
<Card@Surface>:
    orientation: 'vertical'
    padding: theme.PAD
    spacing: dp(8)
    size_hint_y: None
    height: self.minimum_height
""")


class Title(GlossaryLabel):
    """A screen's title."""


class Heading(GlossaryLabel):
    """A section heading."""


class Body(GlossaryLabel):
    """Ordinary text."""


class Muted(GlossaryLabel):
    """Secondary text: reasons, hints, units."""
