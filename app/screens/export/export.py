"""Export: four buttons (Hugging Face, Ollama, LM Studio, GGUF), a progress bar while exporting, where the
export went with a button to open its folder, the instructions with the command to copy, and Test Export
with its verdict, its checks and a sample answer from the exported model.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from app.present_export import KINDS
from app.screens.base import BaseScreen, load_kv

load_kv(__file__)


class ExportKindCard(BoxLayout):
    """One kind of export: a big button with its name and a line saying what it is for."""

    kind = StringProperty("")
    name = StringProperty("")
    what = StringProperty("")
    chosen = BooleanProperty(False)
    __events__ = ("on_choose",)

    def on_choose(self) -> None:
        pass


class QuantChoice(BoxLayout):
    """One quantization type: a button with its name and estimated size, its trade-off below."""

    quant = StringProperty("")
    label = StringProperty("")
    tradeoff = StringProperty("")
    chosen = BooleanProperty(False)
    __events__ = ("on_choose",)

    def on_choose(self) -> None:
        pass


class ExportSection(BoxLayout):
    """A card of the export screen, in the tree only while it has something to show (a hidden button
    would still catch touches)."""

    ctrl = ObjectProperty(None, allownone=True)
    screen = ObjectProperty(None, allownone=True)


class ExportProgress(ExportSection):
    """What is happening and the progress bar, while exporting or testing."""


class ExportDone(ExportSection):
    """Where the export is (with Open folder), its files, the instructions, the command to copy, Test Export."""


class ExportVerdict(ExportSection):
    """Test Export's verdict, its checks and the exported model's sample answer."""


class ExportScreen(BaseScreen):
    command = StringProperty("")
    copy_text = StringProperty("Copy command")

    def setup(self) -> None:
        grid = self.ids.kinds
        for k in KINDS:
            card = ExportKindCard(kind=k["kind"], name=k["name"], what=k["what"])
            card.bind(on_choose=lambda c: self.ctrl.start_export(c.kind))
            grid.add_widget(card)
        self.progress_card = ExportProgress(ctrl=self.ctrl, screen=self)
        self.done_card = ExportDone(ctrl=self.ctrl, screen=self)
        self.verdict_card = ExportVerdict(ctrl=self.ctrl, screen=self)
        self.ctrl.bind(export_stage=self.refresh, export_test=self.refresh, export_result=self.refresh, export_kind=self.refresh, export_busy=self.refresh,
                       export_run_id=self.refresh, export_quant=self.refresh, export_quant_choices=self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        result = self.ctrl.export_result
        self.command = result["command"] if result else ""
        self.copy_text = "Copy command"
        for card in self.ids.kinds.children:
            card.chosen = card.kind == self.ctrl.export_kind
            card.ids.button.disabled = self.ctrl.export_busy or not self.ctrl.export_run_id
        self._show_quants()
        c = self.ctrl
        wanted = [card for card, show in ((self.progress_card, c.export_busy),
                                          (self.done_card, c.export_result is not None),
                                          (self.verdict_card, c.export_test is not None)) if show]
        box = self.ids.sections
        if list(reversed(box.children)) != wanted:
            box.clear_widgets()
            for card in wanted:
                box.add_widget(card)

    def _show_quants(self) -> None:
        grid = self.ids.quants
        choices = list(self.ctrl.export_quant_choices)
        if [c.quant for c in reversed(grid.children)] != [c["quant"] for c in choices]:
            grid.clear_widgets()
            for choice in choices:
                card = QuantChoice(quant=choice["quant"])
                card.bind(on_choose=lambda c: self.ctrl.choose_quant(c.quant))
                grid.add_widget(card)
        by_quant = {c["quant"]: c for c in choices}
        for card in grid.children:
            card.label = by_quant[card.quant]["label"]
            card.tradeoff = by_quant[card.quant]["tradeoff"]
            card.chosen = card.quant == self.ctrl.export_quant
            card.ids.button.disabled = self.ctrl.export_busy

    def on_size(self, *_: Any) -> None:
        grid = self.ids.get("kinds")
        if grid is not None:
            grid.cols = 4 if self.width >= 1000 else 2
        quants = self.ids.get("quants")
        if quants is not None:
            quants.cols = 3 if self.width >= 1000 else 2

    def copy_command(self) -> None:
        """Put the command on the clipboard, to paste into a terminal."""
        if self.command:
            from kivy.core.clipboard import Clipboard  # on first use: loading it probes for xclip and xsel

            Clipboard.copy(self.command)
            self.copy_text = "Copied"

    def go_home(self) -> None:
        self.go("home" if self.manager is not None and "home" in self.manager.screen_names else "welcome")
