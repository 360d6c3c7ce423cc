"""Data: pick a file (file chooser or drag-and-drop), see its format and structure, the findings with
their rows and a Fix button each, and a preview of examples as the model sees them."""

from __future__ import annotations

from typing import Any

from kivy.utils import escape_markup

from app import theme
from app.screens.base import WizardScreen, load_kv
from app.screens.pickers import open_file_picker
from app.widgets.finding_row import FindingRow, rows_text

load_kv(__file__)

DATA_FILTERS = ["*.jsonl", "*.json", "*.csv", "*.tsv", "*.txt", "*.parquet"]


def preview_markup(example: Any) -> str:
    """An example's text with the parts the model learns to write in green, the rest grey."""
    learn, read = theme.hex_colour(theme.GOOD), theme.hex_colour(theme.MUTED)
    parts = []
    for span in example.spans:
        piece = escape_markup(example.text[span.start:span.end])
        parts.append(f"[color={learn}]{piece}[/color]" if span.trained else f"[color={read}]{piece}[/color]")
    return "".join(parts)


class DataScreen(WizardScreen):
    def setup(self) -> None:
        self.ctrl.bind(data_report=self.refresh, data_preview=self.refresh, data_busy=self.refresh)
        self.refresh()

    def use_sample(self) -> None:
        self.ctrl.check_data(self.ctrl.sample_data_path())

    def choose_file(self) -> None:
        open_file_picker("Choose the file with your examples", self.ctrl.check_data, filters=DATA_FILTERS)

    def refresh(self, *_: Any) -> None:
        report = self.ctrl.data_report
        box = self.ids.findings
        box.clear_widgets()
        if report is not None:
            for f in report.findings:
                row = FindingRow(severity=f.severity, message=f.message, rows_text=rows_text(f.rows, f.count),
                                 fix_text=f.fix, fix_id=f.fix_id or "")
                row.bind(on_fix=lambda _row, fix_id: self.ctrl.apply_fix(fix_id))
                box.add_widget(row)
        preview = self.ctrl.data_preview
        self.ids.preview.text = "\n\n".join(preview_markup(e) for e in preview.examples) if preview else ""
        ready = report is not None and report.ok and not self.ctrl.data_busy
        self.next_enabled = ready
        self.hint = "" if ready else ("Checking..." if self.ctrl.data_busy else
                                      "Fix the problems first." if report is not None else "Choose your data.")
