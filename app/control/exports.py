"""The controller's part for the export screen (four kinds, progress, Test Export).

`open_export(run_id)` picks the run (or model version) to export; `start_export(kind)` writes it as a
Hugging Face folder, an Ollama or LM Studio package, or a GGUF file under
``<home>/exports/<name>/<kind>`` on a background thread, its progress pushed to `export_progress`
and `export_stage`; `test_export()` runs the library's Test Export on the result.
An export that lacks disk space opens the versions screen's prompt, whose "Try again" repeats it.

Example:
    >>> from app.controller import Controller
    >>> Controller().export_progress
    0.0
"""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from app import present_export as words

#: Progress is pushed to the UI when it moved by this much (a GGUF write reports every tensor).
PROGRESS_STEP = 0.02


class ExportsControl:
    """Properties and actions for the export screen (four kinds, progress, Test Export); mixed into `app.controller.Controller`."""

    export_run_id = StringProperty("")  # the run (or version) being exported
    export_title = StringProperty("")  # e.g. "Run 1 (builtin:tiny-llama, chatbot)"
    export_kind = StringProperty("")  # the kind being written or last written
    export_busy = BooleanProperty(False)  # writing or testing
    export_progress = NumericProperty(0.0)  # 0..1 of the current stage
    export_stage = StringProperty("")  # what is happening, in plain words
    export_result = ObjectProperty(None, allownone=True)  # `present_export.result` dict
    export_record = ObjectProperty(None, allownone=True)  # the library's `ExportResult`, for Test Export
    export_test = ObjectProperty(None, allownone=True)  # `present_export.verdict` dict
    export_root = StringProperty("")  # where exports go ("" : <home>/exports)
    export_quant = StringProperty(words.QUANT_ORDER[0])  # the GGUF quantization type (Ollama, LM Studio, GGUF)
    export_quant_choices = ListProperty(words.quant_choices(None))  # `present_export.quant_choices` dicts
    #: How "Open folder" opens a folder (the desktop's file manager through the browser module).
    folder_opener = ObjectProperty(webbrowser.open)

    def open_export(self, run_id: str) -> None:
        """Export the completed run (or model version) `run_id`: show the export screen for it."""
        self.export_run_id = run_id
        self.export_title = run_id
        self.export_kind = ""
        self.export_progress = 0.0
        self.export_stage = ""
        self.export_result = self.export_record = self.export_test = None

        def work() -> tuple[str, int | None]:
            tuned = self._export_tuned(run_id)
            name = self._export_name(tuned)
            try:
                from peftstudio.export import ExportSource
                from peftstudio.export.source import parameter_count

                parameters: int | None = parameter_count(ExportSource(tuned.base_reference))
            except Exception:  # noqa: BLE001 - sizes are a help, not a condition of exporting
                parameters = None
            return f"{name} ({tuned.base_reference}, {tuned.config.profile})", parameters

        def done(found: tuple[str, int | None]) -> None:
            self.export_title = found[0]
            self.export_quant_choices = words.quant_choices(found[1])

        self.background(work, done)  # type: ignore[attr-defined]
        self.show("export")  # type: ignore[attr-defined]

    def _export_tuned(self, ref: str) -> Any:
        from peftstudio.playground import resolve_tuned

        return resolve_tuned(ref, store=self.store)  # type: ignore[attr-defined]

    def _export_name(self, tuned: Any) -> str:
        if tuned.run_id:
            try:
                return str(self.store.get_run(tuned.run_id).name or tuned.run_id)  # type: ignore[attr-defined]
            except KeyError:
                pass
        return str(tuned.version_id or tuned.run_id)

    def choose_quant(self, quant: str) -> None:
        """Pick the quantization type for the next Ollama, LM Studio or GGUF export."""
        if quant in words.QUANT_ORDER and not self.export_busy:
            self.export_quant = quant

    def export_folder(self, kind: str) -> Path:
        """Where an export of the current run as `kind` goes."""
        from peftstudio import paths

        root = Path(self.export_root) if self.export_root else paths.home() / "exports"
        return root / self.export_run_id / kind

    def start_export(self, kind: str) -> None:
        """Write the current run as `kind` (hf, ollama, lmstudio, gguf) in the background."""
        if self.export_busy or not self.export_run_id:
            return
        run_id, out, free = self.export_run_id, self.export_folder(kind), self.disk_free_bytes  # type: ignore[attr-defined]
        options = {"quant": self.export_quant} if kind in words.GGUF_KINDS else {}
        self.export_busy = True
        self.export_kind = kind
        self.export_progress = 0.0
        self.export_stage = f"Preparing the {words.KIND_NAMES.get(kind, kind)} export..."
        self.export_result = self.export_record = self.export_test = None
        progress = self._progress_pusher()

        def work() -> Any:
            from peftstudio.export import ExportSource, export

            tuned = self._export_tuned(run_id)
            source = ExportSource(tuned.base_reference, str(tuned.adapter_dir),
                                  name=words.model_name(self._export_name(tuned)))
            return export(kind, source, out, overwrite=True, progress=progress, disk_free_bytes=free, **options)

        def done(record: Any) -> None:
            self.export_busy = False
            self.export_progress = 1.0
            self.export_stage = f"Exported in {words.KIND_NAMES.get(kind, kind)} form."
            self.export_record = record
            self.export_result = words.result(record)

        def failed(exc: BaseException) -> None:
            self.export_busy = False
            self.export_stage = ""
            info = getattr(exc, "info", None)
            if info is not None and self.space_prompt_for(info, retry=lambda: self._export_again(kind)):  # type: ignore[attr-defined]
                return  # the versions screen lists what could be archived or deleted
            self.fail(exc, retry=lambda: self.start_export(kind))  # type: ignore[attr-defined]

        self.background(work, done, failed)  # type: ignore[attr-defined]

    def _export_again(self, kind: str) -> None:
        self.show("export")  # type: ignore[attr-defined]
        self.start_export(kind)

    def test_export(self) -> None:
        """Run Test Export on the last export: load it with independent loaders and compare with the source."""
        record = self.export_record
        if record is None or self.export_busy:
            return
        self.export_busy = True
        self.export_test = None
        self.export_progress = 0.0
        self.export_stage = "Testing the export..."
        progress = self._progress_pusher()

        def work() -> Any:
            from peftstudio.export import verify_export

            return verify_export(record, progress=progress)

        def done(tested: Any) -> None:
            self.export_busy = False
            self.export_progress = 1.0
            self.export_stage = f"Tested in {tested.seconds:.1f} s."
            self.export_test = words.verdict(tested)

        def failed(exc: BaseException) -> None:
            self.export_busy = False
            self.export_stage = ""
            self.fail(exc, retry=self.test_export)  # type: ignore[attr-defined]

        self.background(work, done, failed)  # type: ignore[attr-defined]

    def open_export_folder(self) -> str:
        """Open the last export's folder in the file manager; its path."""
        if self.export_result is None:
            return ""
        path = str(self.export_result["path"])
        self.folder_opener(Path(path).as_uri())
        return path

    def _progress_pusher(self) -> Any:
        """A progress callback for the worker thread that updates the UI when the figure moves enough."""
        last = {"stage": "", "fraction": -1.0}

        def push(p: Any) -> None:
            fraction = p.fraction
            if p.stage == last["stage"] and abs(fraction - last["fraction"]) < PROGRESS_STEP and fraction < 1:
                return
            last.update(stage=p.stage, fraction=fraction)
            message = p.message or p.stage
            Clock.schedule_once(lambda _dt: self._show_progress(fraction, message))

        return push

    def _show_progress(self, fraction: float, message: str) -> None:
        if self.export_busy:
            self.export_progress = fraction
            self.export_stage = message
