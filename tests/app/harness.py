"""Drive the app offscreen: build it in the (one) Kivy window, tap widgets with real touches, wait for
the controller, and save screenshots into docs/screenshots/."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kivy.base import EventLoop

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def frames(n: int = 3) -> None:
    """Let Kivy draw `n` frames (a screenshot in the first frame after a change is blank)."""
    for _ in range(n):
        EventLoop.idle()


class Ui:
    """The app's screens over `ctrl`, in the offscreen window of size `size`."""

    def __init__(self, ctrl: Any, size: tuple[int, int] = (1280, 800)) -> None:
        EventLoop.ensure_window()
        from kivy.core.window import Window

        from app.main import build_root

        self.window = Window
        Window.size = size
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

        hits = [b for b in self.find(StudioButton, where) if b.text == text and b.opacity > 0]
        assert hits, f"no button {text!r} on screen {self.root.current}"
        return hits[0]

    # ------------------------------------------------------------ acting
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
        """Save what the window shows as docs/screenshots/<name>.png."""
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
        if self.app.error_dialog is not None:
            self.app.error_dialog.dismiss()
        for child in list(self.window.children):
            if child is not self.root and child.__class__.__name__ in ("ErrorDialog", "StepsDialog", "FilePicker"):
                child.dismiss()
        self.app.unbind_all()
        self.ctrl.stop_following()
        self.window.remove_widget(self.root)
        frames(2)
