"""Drive the app offscreen: build it in the (one) Kivy window, tap widgets with real touches, wait for
the controller, and save screenshots (into docs/screenshots/ under `make screenshots`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kivy.base import EventLoop

#: Where screenshots go: docs/screenshots/ under `make screenshots` (which sets the variable); a temporary
#: folder otherwise, so that `make test` leaves the tree clean.
SCREENSHOTS = Path(os.environ.get("PEFTSTUDIO_SCREENSHOTS") or tempfile.mkdtemp(prefix="peftstudio-shots-"))


def frames(n: int = 3) -> None:
    """Let Kivy draw `n` frames (a screenshot in the first frame after a change is blank)."""
    for _ in range(n):
        EventLoop.idle()


class Ui:
    """The app's screens over `ctrl`, in the offscreen window."""

    def __init__(self, ctrl: Any) -> None:
        EventLoop.ensure_window()
        from kivy.core.window import Window

        from app.main import build_root

        self.window = Window  # its size is set before it exists (tests/app/conftest.py)
        self.app = SimpleNamespace(ctrl=ctrl, error_dialog=None)
        self.ctrl = ctrl
        self.root = build_root(self.app)
        Window.add_widget(self.root)
        frames(5)

    # ------------------------------------------------------------ looking
    @property
    def screen(self) -> Any:
        return self.root.current_screen

    def find(self, cls: type, where: Any = None, **attrs: Any) -> list[Any]:
        """Widgets of class `cls` under `where` (default: the window) whose attributes match `attrs`."""
        starts = [where] if where is not None else list(self.window.children)
        found = []
        for start in starts:
            for w in start.walk(restrict=True):
                if isinstance(w, cls) and all(getattr(w, k, None) == v for k, v in attrs.items()):
                    found.append(w)
        return found

    def button(self, text: str, where: Any = None) -> Any:
        from app.widgets.action_button import StudioButton

        deadline = time.monotonic() + 5.0  # a screen fading in shows its buttons a few frames later
        while True:
            hits = [b for b in self.find(StudioButton, where) if b.text == text and b.opacity > 0]
            if hits or time.monotonic() > deadline:
                break
            frames(1)
        assert hits, f"no button {text!r} on screen {self.root.current}"
        return hits[0]

    # ------------------------------------------------------------ acting
    def show(self, name: str) -> None:
        """Switch to screen `name` and wait until its fade-in is over (touches during it are dropped)."""
        self.root.current = name
        self.wait(lambda: self.root.current_screen.name == name and not self.root.transition.is_active, 5, name)
        frames(3)

    def scroll_to(self, widget: Any) -> None:
        """Scroll the wizard body so `widget` is visible (a person would scroll too)."""
        scroll = getattr(self.screen, "ids", {}).get("scroll")
        content = scroll.children[0] if scroll is not None and scroll.children else None
        if content is not None and content.height > scroll.height and widget in list(scroll.walk()):
            scroll.scroll_to(widget, padding=20, animate=False)
            frames(3)

    def tap(self, widget: Any, *, hold: float = 0.0) -> None:
        """A real touch at the middle of `widget` (held for `hold` seconds)."""
        from kivy.tests.common import UnitTestTouch

        self.scroll_to(widget)
        x, y = widget.to_window(*widget.center)
        assert 0 <= x <= self.window.width and 0 <= y <= self.window.height, f"{widget} is off screen at {(x, y)}"
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        frames(1)
        end = time.monotonic() + hold
        while time.monotonic() < end:
            frames(1)
            time.sleep(0.02)
        touch.touch_up()
        frames(3)

    def tap_at(self, x: float, y: float, *, hold: float = 0.0) -> None:
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(x, y)
        touch.touch_down()
        frames(1)
        end = time.monotonic() + hold
        while time.monotonic() < end:
            frames(1)
            time.sleep(0.02)
        touch.touch_up()
        frames(3)

    def key(self, key: int, modifiers: list[str] | None = None, text: str = "") -> None:
        """Press a key as the keyboard would (e.g. 9 Tab, 13 Enter, 27 Escape)."""
        self.window.dispatch("on_key_down", key, 0, text, modifiers or [])
        self.window.dispatch("on_keyboard", key, 0, text, modifiers or [])
        self.window.dispatch("on_key_up", key, 0)
        frames(3)

    def wait(self, condition: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
        """Draw frames until `condition()` is true; fail with `what` after `timeout` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = condition()
            if value:
                frames(2)
                return value
            frames(1)
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or condition}")

    def shot(self, name: str) -> Path:
        """Save what the window shows as <name>.png in `SCREENSHOTS`."""
        frames(4)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp()) / "shot.png"
        made = self.window.screenshot(name=str(tmp))
        target = SCREENSHOTS / f"{name}.png"
        shutil.move(made, target)
        return target

    def close(self) -> None:
        from app.widgets.tooltip import hide_tooltip

        hide_tooltip()
        for top in list(self.window.children):  # release the keyboard: the next test starts unfocused
            for w in top.walk(restrict=True):
                if getattr(w, "focus", False):
                    w.focus = False
        if self.app.error_dialog is not None:
            self.app.error_dialog.dismiss()
        for child in list(self.window.children):
            if child is not self.root and child.__class__.__name__ in ("ErrorDialog", "StepsDialog", "FilePicker"):
                child.dismiss()
        self.app.unbind_all()
        self.ctrl.shutdown()
        self.window.remove_widget(self.root)
        end = time.monotonic() + 3  # let closing dialogs finish their animation (they unbind the keyboard then)
        while time.monotonic() < end and len(self.window.children) > 0:
            frames(1)
            time.sleep(0.02)
        frames(2)


@contextlib.contextmanager
def probed_ui() -> Iterator[Ui]:
    """The app over a new controller (simulated hardware) whose probe of the machine has finished."""
    from app.controller import Controller
    from peftstudio.hardware import simulated_hardware

    ctrl = Controller(hardware=simulated_hardware())
    ui = Ui(ctrl)
    try:
        ctrl.start()
        ui.wait(lambda: ctrl.hardware is not None and ctrl.profile_estimates, 60, "the probe")
        yield ui
    finally:
        ui.close()


def layout_problems(ui: Ui) -> list[str]:
    """Text wider than its label, or visible widgets sticking out of the window sideways."""
    from kivy.uix.label import Label

    problems = []
    for top in ui.window.children:
        for w in top.walk(restrict=True):
            if getattr(w, "opacity", 1) == 0 or not w.width or not w.height or not w.get_root_window():
                continue
            left, _ = w.to_window(w.x, w.y)
            right, _ = w.to_window(w.right, w.y)
            if left < -1 or right > ui.window.width + 1:
                problems.append(f"{type(w).__name__} outside the window: x {left:.0f}..{right:.0f}")
            if isinstance(w, Label) and w.text and not w.shorten and w.texture_size[0] > w.width + 2 \
                    and w.text_size[0] is not None:
                problems.append(f"clipped text in {type(w).__name__}: {w.text[:40]!r}")
    return problems


def visit_every_screen(ui: Ui, suffix: str = "") -> list[str]:
    """Show each screen with content (a plan, a followed run) and collect layout problems."""
    from peftstudio import open_store
    from tests.app.helpers import fake_run

    ctrl = ui.ctrl
    ctrl.choose_profile("chatbot")
    ctrl.choose_model("builtin:tiny-llama")
    ctrl.data_path = ctrl.sample_data_path()
    ctrl.replan()
    store = open_store()
    run_id = fake_run(store)
    for step in range(1, 21):
        store.add_metrics(run_id, step, {"loss": 3.0 / (1 + step / 8), "tokens_per_second": 880.0})
    store.add_reading(run_id, {"cpu_percent": 55.0, "ram_percent": 40.0, "ram_used_bytes": 9 * 2**30,
                               "ram_total_bytes": 23 * 2**30, "gpus": []})
    ctrl.follow(run_id)
    problems = []
    for name in ui.root.screen_names:
        ui.root.current = name
        ui.wait(lambda n=name: ui.root.current_screen.name == n and not ui.root.transition.is_active, 5, name)
        frames(6)
        if name == "settings":
            ui.screen.advanced = True
            frames(4)
        problems += [f"{name}: {p}" for p in layout_problems(ui)]
        if suffix:
            ui.shot(f"{name}{suffix}")
    ctrl.stop_following()
    return problems
