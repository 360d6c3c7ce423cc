"""The app's controller: all of the app's state as Kivy properties, and the only caller of `peftstudio`.

Screens read these properties in their kv files and call these methods; they never call the library.
Slow work (probing the machine, checking data, starting a run, reading the store) runs on background
threads and comes back to the UI thread with `Clock.schedule_once`; every failure becomes a plain
`ErrorInfo` in `error`, which the app shows as a dialog.

The controller works without a window, so it is tested on its own.

Example:
    >>> ctrl = Controller()
    >>> ctrl.run_status
    ''
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from app import presenting as say
from app.control.compare import CompareControl
from app.control.exports import ExportsControl
from app.control.home import HomeControl
from app.control.playground import PlaygroundControl
from app.control.presets import PresetsControl
from app.control.versions import VersionsControl
from app.follow import RunFollower, RunUpdate
from peftstudio.notify.dnd import can_read

#: The sample file the wizard offers first (bundled with the library).
SAMPLE_DATA = "pirate_chat.jsonl"
#: Built-in models, always offered first: they work offline.
BUILTIN_MODELS = ("builtin:smollm2-135m", "builtin:tiny-llama")
#: Kinds of notification the settings can switch on and off (`peftstudio.notify.NotifySettings` fields;
#: the library does the notifying, the app only switches it).
NOTIFICATION_KINDS = ("progress", "completion", "errors", "warnings", "sound", "launcher", "respect_do_not_disturb")
APP_TITLE = "PEFT Studio"


class Controller(HomeControl, PlaygroundControl, PresetsControl, CompareControl, VersionsControl, ExportsControl,
                 EventDispatcher):
    """State of the app and the actions on it. Create one per app; `start()` begins probing the machine."""

    # the machine
    hardware = ObjectProperty(None, allownone=True)
    hardware_text = StringProperty("Looking at this computer...")
    # wizard
    wizard_reached = NumericProperty(0)
    profiles = ListProperty([])
    profile_estimates = DictProperty({})
    profile_id = StringProperty("")
    models = ListProperty([])
    model_ref = StringProperty("")
    data_path = StringProperty("")
    data_report = ObjectProperty(None, allownone=True)
    data_preview = ObjectProperty(None, allownone=True)
    data_busy = BooleanProperty(False)
    data_message = StringProperty("")
    overrides = DictProperty({})
    setting_problem = StringProperty("")
    plan = ObjectProperty(None, allownone=True)
    electricity_rate = ObjectProperty(None, allownone=True)
    # the run
    run_id = StringProperty("")
    run_name = StringProperty("")
    run_status = StringProperty("")
    run_busy = BooleanProperty(False)
    step = NumericProperty(0)
    total_steps = NumericProperty(0)
    progress = NumericProperty(0.0)
    elapsed_seconds = NumericProperty(0.0)
    remaining = ObjectProperty(None, allownone=True)  # (seconds, low, high) or None
    tokens_per_second = ObjectProperty(None, allownone=True)
    loss_points = ListProperty([])
    val_points = ListProperty([])
    reading = DictProperty({})
    pause_info = DictProperty({})
    banners = ListProperty([])
    summary = DictProperty({})
    # errors and settings
    error = ObjectProperty(None, allownone=True)
    # every kind on, except the sound where Do Not Disturb cannot be read (macOS/Windows; see docs/notifications.md)
    notifications = DictProperty({kind: kind != "sound" or can_read() for kind in NOTIFICATION_KINDS})
    window_title = StringProperty(APP_TITLE)  # shows the progress where no taskbar does
    # navigation: the screen the controller asks the app to show (e.g. the playground when a run completes)
    screen_request = StringProperty("")

    def __init__(self, *, store: Any = None, hardware: Any = None, poll_interval: float = 0.5,
                 notifier_factory: Callable[..., Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._notifier_factory = notifier_factory
        self._notified: set[str] = set()
        self._store = store
        self._given_hardware = hardware
        self._poll_interval = poll_interval
        self._threads: list[threading.Thread] = []
        self._follower: RunFollower | None = None
        self._follow_event: Any = None
        self._polling = False
        self.model_chosen = False  # the user (or a preset) chose the model: a profile no longer picks it
        self._seen_events: set[int] = set()
        self._retry: Callable[[], None] | None = None
        self._error_run = ""  # the run whose failure `error` shows ("" for an error in the wizard)
        self._notifier: Any = None

    # ------------------------------------------------------------------ plumbing
    @property
    def store(self) -> Any:
        if self._store is None:
            from peftstudio import open_store

            self._store = open_store()
        return self._store

    def background(self, work: Callable[[], Any], done: Callable[[Any], None] | None = None,
                   failed: Callable[[BaseException], None] | None = None) -> threading.Thread:
        """Run `work()` on a thread; `done(result)` (or `failed(exc)`, default: show the error) on the UI thread."""

        def run() -> None:
            try:
                result = work()
            except BaseException as exc:  # noqa: BLE001 - every failure is shown in plain words
                Clock.schedule_once(lambda _dt, e=exc: (failed or self.fail)(e))
            else:
                if done is not None:
                    Clock.schedule_once(lambda _dt: done(result))

        thread = threading.Thread(target=run, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait for background work and deliver its results (for tests and a clean exit)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alive = [t for t in self._threads if t.is_alive()]
            Clock.tick()
            if not alive and not [t for t in self._threads if t.is_alive()]:
                Clock.tick()
                return True
            time.sleep(0.01)
        return False

    def fail(self, exc: BaseException | Any, retry: Callable[[], None] | None = None) -> None:
        """Show a failure as a plain error (`retry` is what "Try again" does)."""
        from peftstudio.errors import ErrorInfo, as_plain

        self.error = exc if isinstance(exc, ErrorInfo) else as_plain(exc).info
        self._retry = retry
        self._error_run = ""

    def show(self, screen: str) -> None:
        """Ask the app to show `screen` (a name in `app.screens.SCREENS`); the app's root switches to it."""
        self.screen_request = ""  # a repeated request for the same screen still fires
        self.screen_request = screen

    def clear_error(self) -> None:
        self.error = None

    # ------------------------------------------------------------------ the machine and the profiles
    def start(self) -> None:
        """Probe the machine and list the profiles (in the background)."""
        from peftstudio.planner import PROFILES

        self.profiles = list(PROFILES)

        def work() -> Any:
            if self._given_hardware is not None:
                return self._given_hardware
            from peftstudio import probe_hardware

            return probe_hardware(use_torch=False)

        self.background(work, self._got_hardware)

    def _got_hardware(self, hw: Any) -> None:
        self.hardware = hw
        self.hardware_text = say.hardware(hw)
        self.background(lambda: {p.id: say.profile_estimate(self._pick(p.id)) for p in self.profiles},
                        self._got_estimates)
        if self.profile_id:
            self.models = self._model_options()
            self.replan()

    def _got_estimates(self, estimates: dict[str, str]) -> None:
        self.profile_estimates = estimates

    def _plan_for(self, profile_id: str, model: str, overrides: dict[str, Any] | None = None) -> Any:
        from peftstudio.planner import plan

        stats = self._stats()
        return plan(self.hardware, model, profile_id, stats, overrides or {},
                    electricity_rate=self.electricity_rate, data_path=self.data_path or None)

    def _pick(self, profile_id: str) -> Any:
        """The profile's best model for this machine, with its reason and plan (`peftstudio.planner.pick_model`)."""
        from peftstudio.planner import pick_model

        return pick_model(self.hardware, profile_id, self._stats())

    # ------------------------------------------------------------------ use case and model
    def choose_profile(self, profile_id: str) -> None:
        """Pick a profile: it configures everything (overrides are cleared)."""
        self.profile_id = profile_id
        self.overrides = {}
        self.models = self._model_options()
        if not self.model_chosen:  # the profile picks the model for this machine unless the user chose one
            self.model_ref = self._pick(profile_id).reference
        self.replan()

    def _model_options(self) -> list[dict[str, Any]]:
        from peftstudio.planner import get_profile

        if not self.profile_id or self.hardware is None:
            return []
        refs = list(BUILTIN_MODELS) + [m for m in get_profile(self.profile_id).suggested_models
                                       if m not in BUILTIN_MODELS]
        if self.model_ref and self.model_ref not in refs:
            refs.append(self.model_ref)  # a folder or file the user picked
        options = []
        for ref in refs:
            try:
                options.append(say.model_option(ref, self._plan_for(self.profile_id, ref)))
            except Exception as exc:  # noqa: BLE001 - shown as "cannot be planned" with the reason
                options.append(say.model_unavailable(ref, exc))
        return options

    def choose_model(self, reference: str) -> None:
        self.model_ref = reference
        self.model_chosen = True
        if not any(m["reference"] == reference for m in self.models):
            self.models = self._model_options()
        self.replan()

    def choose_model_path(self, path: str) -> None:
        """Use a model folder or .gguf file from this computer (checked in the background)."""

        def work() -> str:
            from peftstudio.models.catalog import find_model

            find_model(path, online=False)  # raises a plain error for a folder that is no model
            return path

        self.background(work, self.choose_model)

    # ------------------------------------------------------------------ data
    def sample_data_path(self) -> str:
        from peftstudio.data import sample_path

        return str(sample_path(SAMPLE_DATA))

    def check_data(self, path: str) -> None:
        """Check a data file: format, structure, findings, preview (in the background)."""
        self.data_busy = True
        self.data_message = f"Checking {Path(path).name}..."
        model, profile = self.model_ref, self.profile_id or None
        max_tokens = self.plan.value("sequence_length") if self.plan is not None else None

        def work() -> tuple[Any, Any]:
            from peftstudio.data import check_file, preview
            from peftstudio.data.planning import tokenizer_or_none

            tokenizer = tokenizer_or_none(model)
            report = check_file(path, profile=profile, tokenizer=tokenizer, max_tokens=max_tokens)
            shown = preview(path, tokenizer, n=2) if report.rows else None
            return report, shown

        def done(result: tuple[Any, Any]) -> None:
            self.data_busy = False
            self.data_path = path
            self.data_report, self.data_preview = result
            self.data_message = say.data_summary(self.data_report)
            self.replan()

        def failed(exc: BaseException) -> None:
            self.data_busy = False
            self.data_message = ""
            self.fail(exc, retry=lambda: self.check_data(path))

        self.background(work, done, failed)

    def apply_fix(self, fix_id: str) -> None:
        """Apply one automatic fix: a cleaned copy is written (the original is kept) and checked again."""
        source = self.data_path
        model = self.model_ref
        max_tokens = self.plan.value("sequence_length") if self.plan is not None else None
        self.data_busy = True

        def work() -> str:
            from peftstudio import paths
            from peftstudio.data import apply_fixes

            folder = paths.home() / "data"
            folder.mkdir(parents=True, exist_ok=True)
            stem = Path(source).stem.removesuffix("-cleaned")
            out = folder / f"{stem}-cleaned{say.fixed_suffix(source)}"
            from peftstudio.data.planning import tokenizer_or_none

            return apply_fixes(source, [fix_id], out, tokenizer=tokenizer_or_none(model),
                               max_tokens=max_tokens).out_path

        def failed(exc: BaseException) -> None:
            self.data_busy = False
            self.fail(exc)

        self.background(work, self.check_data, failed)

    def _stats(self) -> Any:
        """The checked file's statistics, as `peftstudio.data.planning_stats` measures them for the CLI."""
        from peftstudio.data import stats_of

        return stats_of(self.data_report) if self.data_report is not None else None

    # ------------------------------------------------------------------ settings and review
    def replan(self) -> None:
        """Plan again from the current choices (a few milliseconds, so it runs at once)."""
        if not self.profile_id or not self.model_ref or self.hardware is None:
            return
        try:
            self.plan = self._plan_for(self.profile_id, self.model_ref, dict(self.overrides))
            self.setting_problem = ""
        except Exception as exc:  # noqa: BLE001 - a bad value is explained beside the settings
            from peftstudio.errors import as_plain

            self.setting_problem = as_plain(exc).info.explanation

    def set_override(self, key: str, value: Any) -> bool:
        """Change one setting (text from an input is fine); False, with `setting_problem` set, if refused."""
        from peftstudio.errors import as_plain
        from peftstudio.settings import parse_overrides

        try:
            parsed = parse_overrides({key: value})
        except Exception as exc:  # noqa: BLE001
            self.setting_problem = as_plain(exc).info.explanation
            return False
        self.overrides = {**self.overrides, **parsed}
        self.replan()
        return not self.setting_problem

    def reset_overrides(self) -> None:
        self.overrides = {}
        self.replan()

    def set_electricity_rate(self, text: str) -> bool:
        try:
            rate = float(str(text).replace(",", ".")) if str(text).strip() else None
        except ValueError:
            return False
        if rate is not None and rate < 0:
            return False
        self.electricity_rate = rate
        self.replan()
        return True

    def switch_alternative(self, index: int) -> None:
        """Adopt one of the plan's alternatives (its changes become overrides, or its model is chosen)."""
        alt = self.plan.alternatives[index]
        changes = {k: v for k, v in alt.changes.items() if k != "model"}
        self.overrides = {**self.overrides, **changes}
        if alt.model:
            self.choose_model(alt.model)
        else:
            self.replan()

    # ------------------------------------------------------------------ the run
    def start_training(self, *, name: str = "") -> None:
        """Start the planned run in its own worker process and follow it."""
        if self.plan is None:
            return
        config = self.plan.run_config(self.data_path, name=name or say.run_name(self.plan))
        self._reset_run_state()
        self.run_busy = True

        def work() -> str:
            from peftstudio.engine import start_run

            return str(start_run(config, self.store))

        def failed(exc: BaseException) -> None:
            self.run_busy = False
            self.fail(exc, retry=lambda: self.start_training(name=name))

        self.background(work, self.follow, failed)

    def _reset_run_state(self) -> None:
        self.step = self.total_steps = 0
        self.progress = self.elapsed_seconds = 0.0
        self.remaining = self.tokens_per_second = None
        self.loss_points, self.val_points, self.banners = [], [], []
        self.reading, self.pause_info, self.summary = {}, {}, {}
        self._seen_events = set()

    def follow(self, run_id: str) -> None:
        """Show this run on the dashboard and keep its figures up to date."""
        if run_id != self.run_id or self._follower is None:
            self._reset_run_state()
            self._follower = RunFollower(self.store, run_id)
            self._close_notifier()
        self.run_id = run_id
        self.run_busy = False
        self._start_polling()

    def _start_polling(self) -> None:
        if self._follow_event is None:
            self._follow_event = Clock.schedule_interval(lambda _dt: self.poll(), self._poll_interval)
        self.poll()

    def shutdown(self) -> None:
        """Stop polling and let the notifier finish (the app is closing; the run itself goes on)."""
        self.stop_following()
        self._close_notifier()

    def stop_following(self) -> None:
        if self._follow_event is not None:
            self._follow_event.cancel()
            self._follow_event = None

    def poll(self) -> None:
        """Read what is new about the run (in the background) and show it."""
        if self._follower is None or self._polling:
            return
        self._polling = True
        follower = self._follower

        def done(update: RunUpdate) -> None:
            self._polling = False
            if follower is self._follower:
                self.apply_update(update)

        def failed(exc: BaseException) -> None:
            self._polling = False
            self.fail(exc)

        self.background(follower.poll, done, failed)

    def apply_update(self, u: RunUpdate) -> None:
        """Put a poll's result into the properties (called on the UI thread)."""
        self.run_status = u.status
        self.run_name = u.name
        self.step, self.total_steps = u.step, u.total_steps
        self.progress = min(u.step / u.total_steps, 1.0) if u.total_steps else 0.0
        self.elapsed_seconds = u.elapsed_seconds
        self.remaining = None if u.remaining_seconds is None else (
            u.remaining_seconds, u.remaining_low_seconds or u.remaining_seconds,
            u.remaining_high_seconds or u.remaining_seconds)
        self.tokens_per_second = u.tokens_per_second
        if u.changed_points or len(u.loss) != len(self.loss_points):
            self.loss_points, self.val_points = u.loss, u.val_loss
        if u.reading is not None and u.reading.get("time") != self.reading.get("time"):
            self.reading = u.reading
        self.summary = u.summary
        self.pause_info = u.summary.get("pause") or {} if u.status == "paused" else {}
        for event in u.events:
            self._event(event, u.error if u.status in ("paused", "failed") else None)
        self._notify(u)
        if u.status in ("completed", "failed", "paused"):
            self.stop_following()
        if u.status == "failed" and u.error and (self.error is None or self.error.code != u.error.get("code")):
            from peftstudio.errors import ErrorInfo
            from peftstudio.records.convert import from_dict

            try:
                self.fail(from_dict(ErrorInfo, u.error))
            except Exception:  # noqa: BLE001 - an error record from another version: show it generically
                self.fail(RuntimeError(str(u.error.get("title", "the run failed"))))
            self._error_run = u.run_id

    def _event(self, event: dict[str, Any], run_error: dict[str, Any] | None) -> None:
        if event["id"] in self._seen_events:
            return
        self._seen_events.add(event["id"])
        banner = say.banner_for(event, run_error)
        if banner is not None:
            self.banners = [*self.banners, banner]

    def apply_banner_action(self, action: dict[str, Any]) -> bool:
        """A banner's button: an automatic fix of the run's error is applied by the library."""
        self._error_run = self.run_id  # the banner belongs to the run on the dashboard
        return self.apply_action(action)

    def dismiss_banner(self, banner_id: int) -> None:
        self.banners = [b for b in self.banners if b["id"] != banner_id]

    def pause(self) -> None:
        if not self.run_id:
            return
        self.run_busy = True
        run_id = self.run_id

        def work() -> Any:
            from peftstudio.engine import pause_run

            return pause_run(run_id, self.store)

        def done(_run: Any) -> None:
            self.run_busy = False
            self.run_status = "pausing"
            self._start_polling()

        self.background(work, done)

    def resume(self) -> None:
        if not self.run_id:
            return
        self.run_busy = True
        run_id = self.run_id

        def work() -> str:
            from peftstudio.engine import resume_run

            return str(resume_run(run_id, self.store))

        def failed(exc: BaseException) -> None:
            self.run_busy = False
            self.fail(exc)

        self.background(work, self.follow, failed)

    # ------------------------------------------------------------------ fixes for errors and banners
    def apply_action(self, action: Any) -> bool:
        """Do what an error's or a banner's action says; False when it is manual (its steps are shown).

        `action` is an `Action` record or a dict with ``fix_id``. A run's error is fixed by the library
        (`peftstudio.fixes.apply_fix`: new settings, then resume from the last checkpoint); an error in
        the wizard changes the wizard's choices.
        """
        fix_id = action.get("fix_id") if isinstance(action, dict) else getattr(action, "fix_id", None)
        if not fix_id:
            return False
        from peftstudio.fixes import FIXES

        run_error = self._error_run == self.run_id and bool(self.run_id)
        info, retry = self.error, self._retry
        self.clear_error()
        if run_error and fix_id in FIXES:
            self._fix_run(fix_id)
        elif fix_id == "retry" and self._retry is not None:
            self._retry()
        elif fix_id == "skip_broken_rows":
            self.apply_fix("drop_malformed")
        elif fix_id == "use_defaults":
            self.reset_overrides()
        elif fix_id == "use_builtin":
            self.choose_model(BUILTIN_MODELS[0])
        elif fix_id == "free_space":  # not a run's: the versions screen lists what could be archived or deleted
            self.free_space(info, retry)
        elif fix_id in FIXES and self.plan is not None:
            self._fix_plan(fix_id)
        else:
            return False
        return True

    def _fix_run(self, fix_id: str) -> None:
        """Let the library apply the fix to the run and resume it; then follow it again."""
        run_id = self.run_id
        self.run_busy = True

        def work() -> str:
            from peftstudio.fixes import apply_fix

            return str(apply_fix(run_id, fix_id, self.store).run_id)

        def failed(exc: BaseException) -> None:
            self.run_busy = False
            self.fail(exc)

        self.background(work, self.follow, failed)

    def _fix_plan(self, fix_id: str) -> None:
        """Apply a fix to the planned settings (before any run): its changes become overrides."""
        from peftstudio.fixes import fixed_config
        from peftstudio.settings import read_settings, spec_at

        fixed, fix = fixed_config(self.plan.run_config(self.data_path), fix_id)
        values = read_settings(fixed, planned=True)
        changed = [s.key for s in map(spec_at, fix.changes) if s is not None and s.key in values]
        self.overrides = {**self.overrides, **{key: values[key] for key in changed}}
        self.replan()

    def help_url(self, info: Any = None) -> str:
        """The ``file://`` address of the error's section of the user guide (shipped with the package)."""
        from peftstudio.help import page_uri

        info = info or self.error
        return page_uri(info.help_url if info is not None else "errors")

    def open_help(self, info: Any = None) -> str:
        url = self.help_url(info)
        webbrowser.open(url)
        return url

    # ------------------------------------------------------------------ notifications
    def set_notification(self, kind: str, on: bool) -> None:
        """Switch one kind of desktop notification on or off (see `NOTIFICATION_KINDS`)."""
        if kind not in NOTIFICATION_KINDS:
            raise ValueError(f"unknown notification kind {kind!r}; expected one of {', '.join(NOTIFICATION_KINDS)}")
        self.notifications = {**self.notifications, kind: bool(on)}
        if self._notifier is not None:
            self._notifier.settings = self._notify_settings()

    def _notify_settings(self) -> Any:
        from peftstudio.notify import NotifySettings

        return NotifySettings(**{k: bool(v) for k, v in self.notifications.items()})

    def _make_notifier(self, name: str) -> Any:
        from peftstudio.notify import RunNotifier, title_with_progress

        def on_launcher(state: Any) -> None:  # called on the UI thread (from apply_update)
            self.window_title = title_with_progress(APP_TITLE, state) if state.visible else APP_TITLE

        factory = self._notifier_factory or RunNotifier
        return factory(self._notify_settings(), run_name=name, on_launcher=on_launcher)

    def _notify(self, u: RunUpdate) -> None:
        """Tell the notifier what happened (milestones, warnings, the end); it decides what to show."""
        if self._notifier is None:
            self._notifier = self._make_notifier(u.name)
            if u.status in ("running", "paused", "queued") and self.progress:
                self._notifier.skip_to(self.progress)  # a run followed mid-way: no stale milestones
        n = self._notifier
        key = f"{u.run_id}:{u.status}"
        if u.status == "running":
            n.progress(self.progress)
        elif u.status == "completed" and key not in self._notified:
            from peftstudio.notify import CompletionSummary

            s = u.summary
            n.completed(CompletionSummary(run_name=u.name, steps=s.get("steps"), elapsed_seconds=u.elapsed_seconds,
                                          final_loss=s.get("final_loss"), best_val_loss=s.get("best_val_loss"),
                                          saved_to=s.get("adapter_path")))
        elif u.status == "failed" and key not in self._notified and self.error is not None:
            n.failed(self.error)
        self._notified.add(key)
        for event in u.events:
            banner = say.banner_for(event)
            if banner is not None and event["kind"] != "quality":
                n.warning(banner["title"], banner["message"])

    def _close_notifier(self) -> None:
        if self._notifier is not None:
            notifier, self._notifier = self._notifier, None
            threading.Thread(target=notifier.close, daemon=True).start()  # flushing may wait on D-Bus
        self._notified = set()

