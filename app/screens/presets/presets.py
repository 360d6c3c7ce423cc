"""Presets library: search and filter saved presets, use one in the wizard (after seeing what must change
on this computer), export one to a file, import a file (refused files explained in plain words)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from app.present_presets import adjustment_line, entry_details, fit_summary
from app.screens.base import BaseScreen, load_kv
from app.screens.pickers import open_file_picker
from app.widgets.banner import Banner

load_kv(__file__)


class PresetRow(BoxLayout):
    name = StringProperty("")
    details = StringProperty("")
    notes = StringProperty("")
    __events__ = ("on_use", "on_export", "on_delete")

    def on_use(self) -> None:
        pass

    def on_export(self) -> None:
        pass

    def on_delete(self) -> None:
        pass


class AdjustmentRow(BoxLayout):
    change = StringProperty("")
    reason = StringProperty("")


class FitCard(BoxLayout):
    """What using a preset here changes; "Apply to the wizard" or "Cancel"."""

    title = StringProperty("")
    summary = StringProperty("")
    notes = StringProperty("")
    __events__ = ("on_apply", "on_cancel")

    def on_apply(self) -> None:
        pass

    def on_cancel(self) -> None:
        pass


class PresetsScreen(BaseScreen):
    #: What each filter shows when it lets everything through.
    ALL: ClassVar[dict[str, str]] = {"profile": "All use cases", "model": "All models", "tag": "All tags"}
    list_heading = StringProperty("Your presets")

    def setup(self) -> None:
        self.ctrl.bind(presets=self.refresh_rows, preset_error=self.refresh_messages,
                       preset_message=self.refresh_messages, preset_fit=self.refresh_messages)
        self.refresh_rows()
        self.refresh_messages()

    def on_enter(self, *_: Any) -> None:
        if self.ctrl.preset_fit is None:
            self.ctrl.clear_preset_messages()  # old news from another screen; a pending preset stays
        self.ctrl.refresh_presets()

    # ------------------------------------------------------------ actions
    def set_filter(self, kind: str, text: str) -> None:
        value = "" if text == self.ALL[kind] else text
        if self.ctrl.preset_filters.get(kind, "") != value:
            self.ctrl.filter_presets(kind, value)

    def import_file(self) -> None:
        self.ctrl.import_preset_file(self.ids.path.text)

    def choose_file(self) -> None:
        here = Path(self.ids.path.text.strip() or self.ctrl.preset_folder).expanduser()
        start = here if here.is_dir() else here.parent
        open_file_picker("Choose a preset file", self._chosen, filters=["*.json"],
                         start=str(start) if start.is_dir() else None)

    def _chosen(self, path: str) -> None:
        self.ids.path.text = path

    def export(self, name: str) -> None:
        where = self.ids.path.text.strip()
        if where and Path(where).expanduser().is_file() and not where.lower().endswith(".json"):
            where = str(Path(where).expanduser().parent)  # a file that is no preset: export next to it
        self.ctrl.export_preset_to(name, where)

    # ------------------------------------------------------------ showing
    def refresh_rows(self, *_: Any) -> None:
        box = self.ids.rows
        box.clear_widgets()
        entries = list(self.ctrl.presets)
        filtered = bool(self.ctrl.preset_search or any(self.ctrl.preset_filters.values()))
        if entries:
            self.list_heading = f"Your presets ({len(entries)}{' shown' if filtered else ''})"
        else:
            self.list_heading = "No preset matches the search." if filtered else \
                "No presets yet: save one at the end of the wizard (Review, \u201cSave as preset...\u201d)."
        for entry in entries:
            row = PresetRow(name=entry.name, details=entry_details(entry), notes=entry.notes)
            row.bind(on_use=lambda _r, n=entry.name: self.ctrl.use_preset(n),
                     on_export=lambda _r, n=entry.name: self.export(n),
                     on_delete=lambda _r, n=entry.name: self.ctrl.delete_preset(n))
            box.add_widget(row)

    def refresh_messages(self, *_: Any) -> None:
        box = self.ids.messages
        box.clear_widgets()
        error, fit = self.ctrl.preset_error, self.ctrl.preset_fit
        if error is not None:
            box.add_widget(Banner(title=error.title, message=error.explanation, severity="error"))
        elif self.ctrl.preset_message:
            box.add_widget(Banner(title="Done", message=self.ctrl.preset_message, severity="info"))
        if fit is not None:
            card = FitCard(title=f"Before you use \u201c{fit.name}\u201d", summary=fit_summary(fit),
                           notes="\n".join(fit.notes))
            for adjustment in fit.adjustments:
                change, reason = adjustment_line(adjustment)
                card.ids.adjustments.add_widget(AdjustmentRow(change=change, reason=reason))
            card.bind(on_apply=lambda _c: self.ctrl.apply_preset_to_wizard(),
                      on_cancel=lambda _c: self.ctrl.cancel_preset())
            box.add_widget(card)
