"""The Kivy application: builds the screens over one controller, shows errors, takes dropped files.

Keyboard: Tab / Shift+Tab move between buttons, Enter or Space presses the focused one, Escape goes
back a step in the wizard (or closes a dialog), Ctrl+Enter is "Next".
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.core.window import Window
from kivy.uix.screenmanager import FadeTransition, ScreenManager

from app import screens, theme, widgets
from app.controller import Controller


class PeftStudioApp(App):
    title = "PEFT Studio"

    def __init__(self, controller: Controller | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ctrl = controller or Controller()
        self.error_dialog: Any = None

    def build(self) -> ScreenManager:
        return build_root(self)

    def on_start(self) -> None:
        self.ctrl.start()

    def on_stop(self) -> None:
        self.ctrl.shutdown()


def build_root(app: Any) -> ScreenManager:
    """The screen manager with every screen, wired to `app.ctrl` (used by the app and by tests)."""
    widgets.load()
    from app.screens.errors.errors import ErrorDialog

    Window.clearcolor = theme.BACKGROUND
    manager = ScreenManager(transition=FadeTransition(duration=0.12))
    for name in screens.SCREENS:
        manager.add_widget(screens.load(name)(name=name, ctrl=app.ctrl))

    def on_error(_ctrl: Any, info: Any) -> None:
        if app.error_dialog is not None:
            app.error_dialog.dismiss()
            app.error_dialog = None
        if info is not None:
            app.error_dialog = ErrorDialog(info=info, ctrl=app.ctrl)
            app.error_dialog.open()

    def on_drop(_window: Any, path: bytes, *_args: Any) -> None:
        text = path.decode("utf-8", "replace") if isinstance(path, bytes) else str(path)
        if manager.current == "model":
            app.ctrl.choose_model_path(text)
        elif manager.current == "presets":
            app.ctrl.import_preset_file(text)
        else:
            manager.current = "data"
            app.ctrl.check_data(text)

    def on_key(_window: Any, key: int, _scancode: int, _codepoint: str, modifiers: list[str]) -> bool:
        screen = manager.current_screen
        if key == 27:  # Escape: back one step (Kivy would otherwise close the app)
            if app.error_dialog is not None and app.error_dialog.parent is not None:
                app.error_dialog.close()
            elif hasattr(screen, "go_back"):
                screen.go_back()
            return True
        if key == 13 and "ctrl" in modifiers and hasattr(screen, "go_next"):
            screen.go_next()
            return True
        return False

    def on_title(_ctrl: Any, title: str) -> None:
        Window.set_title(title)  # progress in the title bar where no taskbar shows it

    def on_screen_request(_ctrl: Any, name: str) -> None:
        if name and name in manager.screen_names:
            manager.current = name

    app.ctrl.bind(error=on_error, window_title=on_title, screen_request=on_screen_request)
    Window.bind(on_drop_file=on_drop, on_keyboard=on_key)
    app.root_manager = manager
    app.unbind_all = lambda: (Window.unbind(on_drop_file=on_drop, on_keyboard=on_key),
                              app.ctrl.unbind(error=on_error, window_title=on_title,
                                                 screen_request=on_screen_request))
    return manager
