"""The controller's part for presets (save from the wizard, library, import/export).

A preset is kept as the user saved or imported it; fitting it to this machine happens when it is
about to be used (`use_preset`): the adjustments are listed first (`preset_fit`), and only
`apply_preset_to_wizard` changes the wizard. A file that fails any check is refused whole, with a
plain message in `preset_error`, and nothing is stored.

Example:
    >>> unique_name("bot", {"bot", "bot (2)"})
    'bot (3)'
    >>> parse_tags(" support, pirate ,, support ")
    ('support', 'pirate')
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen
from kivy.properties import BooleanProperty, DictProperty, ListProperty, ObjectProperty, StringProperty

#: Index of the review step in the wizard (`app.widgets.wizard_frame.STEPS`), and of the data step.
REVIEW_STEP, DATA_STEP = 5, 3
#: A preset name may be this long (`peftstudio.history.presets.MAX_NAME_LENGTH`).
MAX_NAME = 100


@frozen
class PresetFit:
    """A preset about to be used here: its settings fitted to this machine, and what changed and why.

    `data_path` is the preset's data file when it is on this computer unchanged (same SHA-256), else "".
    """

    name: str
    preset: Any  # peftstudio.history.Preset
    config: Any  # the fitted peftstudio.records.RunConfig
    adjustments: tuple[Any, ...] = ()  # peftstudio.history.Adjustment
    notes: tuple[str, ...] = ()
    data_path: str = ""
    imported: bool = False


def parse_tags(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Tags typed as ``a, b, c`` (or given as a list): trimmed, empty ones and repeats dropped."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or ``name (2)``, ``name (3)``... when taken (kept within the name length limit)."""
    if name not in taken:
        return name
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def file_stem(name: str) -> str:
    """A file name for a preset: letters, digits, ``-`` and ``_`` only.

    Example:
        >>> file_stem("My bot: v2 / pirate")
        'My-bot-v2-pirate'
    """
    return re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")[:60] or "preset"


def export_target(where: str, name: str, exists: Callable[[Path], bool] = Path.exists) -> Path:
    """Where "Export" writes: `where` itself when it names a ``.json`` file, else a new file in that folder.

    Example:
        >>> export_target("/tmp/x/bot.json", "bot").name, export_target("/tmp/x", "my bot", lambda p: False).name
        ('bot.json', 'my-bot.json')
    """
    path = Path(where).expanduser()
    if path.suffix.lower() == ".json":
        return path
    stem = file_stem(name)
    target = path / f"{stem}.json"
    n = 2
    while exists(target):
        target = path / f"{stem}-{n}.json"
        n += 1
    return target


def default_preset_folder(env: dict[str, str] | None = None, user_home: Path | None = None) -> Path:
    """The folder offered for exporting and importing presets.

    ``~/Documents`` when it exists and no `PEFTSTUDIO_HOME` is set (a person's usual place for files),
    else the ``exports`` folder of PEFT Studio's home (tests and portable set-ups stay inside it).
    """
    env = dict(os.environ) if env is None else env
    documents = (user_home or Path.home()) / "Documents"
    if not env.get("PEFTSTUDIO_HOME") and documents.is_dir():
        return documents
    from peftstudio import paths

    return paths.sub("exports")


class PresetsControl:
    """Properties and actions for presets (save from the wizard, library, import/export); mixed into `app.controller.Controller`."""

    presets = ListProperty([])  # PresetEntry records, as filtered
    preset_options = DictProperty({"profile": [], "model": [], "tag": []})  # filter choices over the whole library
    preset_search = StringProperty("")
    preset_filters = DictProperty({"profile": "", "model": "", "tag": ""})
    preset_folder = StringProperty("")  # where exports go and imports are looked for
    preset_message = StringProperty("")  # what the last save, export or import did
    preset_error = ObjectProperty(None, allownone=True)  # ErrorInfo of the last refused save, import or export
    preset_fit = ObjectProperty(None, allownone=True)  # PresetFit waiting for "Apply to the wizard"
    preset_busy = BooleanProperty(False)
    _preset_query = 0

    if TYPE_CHECKING:  # what the Controller this is mixed into provides
        store: Any
        hardware: Any
        plan: Any
        data_path: str
        data_report: Any
        profile_id: str
        model_ref: str
        overrides: dict[str, Any]
        models: list[Any]
        wizard_reached: int

        def background(self, work: Callable[[], Any], done: Callable[[Any], None] | None = None,
                       failed: Callable[[BaseException], None] | None = None) -> Any: ...
        def show(self, screen: str) -> None: ...
        def replan(self) -> None: ...
        def check_data(self, path: str) -> None: ...
        def _model_options(self) -> list[dict[str, Any]]: ...

    # ------------------------------------------------------------------ the library
    def refresh_presets(self) -> None:
        """List the presets that match the search and filters (in the background)."""
        if not self.preset_folder:
            self.preset_folder = str(default_preset_folder())
        self._preset_query += 1
        query, search, filters, store = self._preset_query, self.preset_search, dict(self.preset_filters), self.store

        def work() -> tuple[list[Any], list[Any]]:
            from peftstudio.history import list_presets

            every = list_presets(store=store)
            shown = list_presets(search=search or None, profile=filters.get("profile") or None,
                                 model=filters.get("model") or None, tag=filters.get("tag") or None, store=store)
            return every, shown

        def done(result: tuple[list[Any], list[Any]]) -> None:
            if query != self._preset_query:
                return  # a newer search is on its way
            every, shown = result
            self.preset_options = {
                "profile": sorted({e.profile for e in every}),
                "model": sorted({e.model for e in every}),
                "tag": sorted({t for e in every for t in e.tags}, key=str.casefold),
            }
            self.presets = shown

        self.background(work, done, self._preset_failed)

    def search_presets(self, text: str) -> None:
        self.preset_search = text
        self.refresh_presets()

    def filter_presets(self, kind: str, value: str) -> None:
        """Keep only presets with this profile, model or tag (`kind`); "" shows them all again."""
        if kind not in self.preset_filters:
            raise ValueError(f"unknown preset filter {kind!r}; expected one of profile, model, tag")
        self.preset_filters = {**self.preset_filters, kind: value}
        self.refresh_presets()

    def clear_preset_messages(self) -> None:
        """Forget the last message and refusal (the library screen opens clean)."""
        self.preset_message = ""
        self.preset_error = None

    def _preset_failed(self, exc: BaseException) -> None:
        from peftstudio.errors import as_plain

        self.preset_busy = False
        self.preset_message = ""
        self.preset_error = as_plain(exc).info

    def _preset_done(self, message: str) -> None:
        self.preset_busy = False
        self.preset_error = None
        self.preset_message = message
        self.refresh_presets()

    # ------------------------------------------------------------------ save, delete, export, import
    def plan_name(self) -> str:
        """The planned run's name (what "Save as preset" offers as the preset's name)."""
        from app import presenting as say

        return say.run_name(self.plan) if self.plan is not None else ""

    def save_wizard_as_preset(self, name: str, tags: str | list[str] = "", notes: str = "") -> None:
        """Save the wizard's current choices (profile, model, every setting, the data's fingerprint) as a preset."""
        if self.plan is None:
            from peftstudio.errors import make

            self._preset_failed(make("config_invalid", problems="choose a use case, a model and your data first"))
            return
        config = self.plan.run_config(self.data_path, name=name.strip())
        tag_list, store = parse_tags(tags), self.store
        self.preset_busy = True

        def work() -> Any:
            from peftstudio.history import save_preset

            return save_preset(name, config, tags=tag_list, notes=notes.strip(), store=store)

        self.background(work, lambda p: self._preset_done(f"Saved the preset \u201c{p.name}\u201d."),
                        self._preset_failed)

    def delete_preset(self, name: str) -> None:
        store = self.store

        def work() -> None:
            from peftstudio.history import delete_preset

            delete_preset(name, store=store)

        if self.preset_fit is not None and self.preset_fit.name == name:
            self.preset_fit = None
        self.background(work, lambda _r: self._preset_done(f"Deleted the preset \u201c{name}\u201d."),
                        self._preset_failed)

    def export_preset_to(self, name: str, where: str = "") -> None:
        """Write the preset to a JSON file: `where` is a ``.json`` file or a folder (default `preset_folder`)."""
        store = self.store
        where = where.strip() or self.preset_folder or str(default_preset_folder())
        self.preset_busy = True

        def work() -> tuple[Path, list[str]]:
            from peftstudio.history import export_preset

            target = export_target(where, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            return export_preset(name, target, store=store)

        def done(result: tuple[Path, list[str]]) -> None:
            path, notes = result
            self._preset_done(" ".join([f"Exported \u201c{name}\u201d to {path}.", *notes]))

        self.background(work, done, self._preset_failed)

    def import_preset_file(self, path: str) -> None:
        """Check a preset file completely and add it to the library (renamed if the name is taken).

        A refused file sets `preset_error` (plain words) and stores nothing. An accepted one is fitted to
        this machine at once, so its adjustments are listed (`preset_fit`) before it is applied.
        """
        path = path.strip()
        store, hardware = self.store, self.hardware
        self.preset_busy = True
        self.preset_fit = None

        def work() -> tuple[str, PresetFit]:
            from peftstudio.history import import_preset, list_presets, read_preset_file

            preset = read_preset_file(Path(path).expanduser())  # every check, before anything is stored
            name = unique_name(preset.name, {e.name for e in list_presets(store=store)})
            result = import_preset(Path(path).expanduser(), name=name, store=store)
            return preset.name, fit_preset(result.preset, hardware, result.adjustments, imported=True)

        def done(result: tuple[str, PresetFit]) -> None:
            original, fit = result
            renamed = f" as \u201c{fit.name}\u201d (\u201c{original}\u201d was taken)" if fit.name != original else ""
            self._preset_done(f"Imported the preset \u201c{original}\u201d{renamed}.")
            self.preset_fit = fit

        self.background(work, done, self._preset_failed)

    # ------------------------------------------------------------------ using a preset
    def use_preset(self, name: str) -> None:
        """Fit the preset to this machine and list the adjustments (`preset_fit`); nothing changes yet."""
        store, hardware = self.store, self.hardware
        self.preset_busy = True

        def work() -> PresetFit:
            from peftstudio.history import get_preset

            return fit_preset(get_preset(name, store=store), hardware)

        def done(fit: PresetFit) -> None:
            self.preset_busy = False
            self.preset_error = None
            self.preset_fit = fit

        self.background(work, done, self._preset_failed)

    def cancel_preset(self) -> None:
        self.preset_fit = None

    def apply_preset_to_wizard(self, name: str = "") -> None:
        """Put the listed preset (`preset_fit`, or the preset `name`, fitted first) into the wizard."""
        fit = self.preset_fit
        if name and (fit is None or fit.name != name):
            store, hardware = self.store, self.hardware
            self.background(lambda: fit_preset(_get(name, store), hardware),
                            lambda f: self._apply_fit(f), self._preset_failed)
            return
        if fit is not None:
            self._apply_fit(fit)

    def _apply_fit(self, fit: PresetFit) -> None:
        self.preset_fit = None
        self.preset_message = f"The wizard now holds the preset \u201c{fit.name}\u201d."
        self.fill_wizard(fit.config, data_path=fit.data_path)

    def fill_wizard(self, config: Any, *, data_path: str = "") -> str:
        """Prefill the wizard from a run configuration: profile, model, every setting as the user's own.

        The data file `data_path` is checked again when given; else the wizard keeps the data it has,
        or asks for data. Returns the screen shown ("review" or "data").
        """
        from peftstudio.history.fit import preset_overrides

        self.profile_id = config.profile
        self.model_ref = config.model.reference
        self.model_chosen = True
        self.overrides = preset_overrides(config)
        self.models = self._model_options()
        if data_path:
            self.wizard_reached = max(self.wizard_reached, REVIEW_STEP)
            self.check_data(data_path)  # plans again once the data is checked
            screen = "review"
        else:
            self.replan()
            screen = "review" if self.data_path and self.data_report is not None else "data"
            self.wizard_reached = max(self.wizard_reached, REVIEW_STEP if screen == "review" else DATA_STEP)
        self.show(screen)
        return screen


def _get(name: str, store: Any) -> Any:
    from peftstudio.history import get_preset

    return get_preset(name, store=store)


def fit_preset(preset: Any, hardware: Any, earlier: tuple[Any, ...] = (), *, imported: bool = False) -> PresetFit:
    """The preset fitted to `hardware` (by the planner), with every adjustment and note, and its data file
    if that is on this computer unchanged. Runs on a background thread (it may hash the data file)."""
    from peftstudio.errors import PlainError

    config, adjustments, notes = preset.config, list(earlier), []
    if hardware is not None:
        from peftstudio.history.fit import fit_to_hardware

        try:
            fit = fit_to_hardware(preset.config, hardware)
        except PlainError as exc:  # e.g. a profile this version does not know: say the settings were not checked
            notes.append(f"The settings were not checked against this computer: {exc.info.explanation}")
        else:
            config, notes = fit.config, [*notes, *fit.notes]
            adjustments += fit.adjustments
    data_path, data_note = _data_on_this_computer(preset)
    if data_note:
        notes.append(data_note)
    return PresetFit(name=preset.name, preset=preset, config=config, adjustments=tuple(adjustments),
                     notes=tuple(notes), data_path=data_path, imported=imported)


def _data_on_this_computer(preset: Any) -> tuple[str, str]:
    """The preset's data file if it is here with the same fingerprint; else "" and why it is not used."""
    ref = preset.dataset or preset.config.data.reference
    path = ref.path if ref is not None else preset.config.data.path
    if not path:
        return "", "The preset names no data file: choose your data in the wizard."
    p = Path(path)
    try:
        regular = p.is_file()
    except OSError:
        regular = False
    if not regular:
        return "", f"The preset's data file ({p.name}) is not on this computer: choose your data in the wizard."
    if ref is None:
        return "", f"The preset does not say which version of {p.name} it was made for: choose your data."
    from peftstudio.history import dataset_reference

    try:
        here = dataset_reference(p)
    except OSError:
        return "", f"The preset's data file ({p.name}) cannot be read here: choose your data in the wizard."
    if here.sha256 != ref.sha256:
        return "", f"{p.name} has changed since the preset was saved: choose your data in the wizard."
    return str(p), ""
