"""Start the PEFT Studio app: `python -m app` or `peftstudio-app`."""

from __future__ import annotations


def main() -> None:
    from kivy.config import Config

    # a size that suits a 1280x800 tablet and a desktop alike; the layout adapts to any size
    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    Config.set("graphics", "minimum_width", "1024")
    Config.set("graphics", "minimum_height", "700")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red dots on right-click
    Config.set("kivy", "exit_on_escape", "0")
    from app import display

    display.configure(Config)  # before the window opens
    from app.main import PeftStudioApp

    PeftStudioApp().run()


if __name__ == "__main__":
    main()
