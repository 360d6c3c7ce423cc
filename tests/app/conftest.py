"""Kivy runs offscreen in these tests; its environment must be set before kivy is imported anywhere."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_NO_FILELOG"] = "1"
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))

# The offscreen window cannot be resized after it is created (its framebuffer keeps the first size),
# so the size is set here; other sizes run in a subprocess (see test_layout_sizes.py).
_W, _H = os.environ.get("PEFTSTUDIO_UI_SIZE", "1280x800").split("x")

from kivy.config import Config

Config.set("graphics", "width", _W)
Config.set("graphics", "height", _H)
Config.set("kivy", "exit_on_escape", "0")
Config.set("input", "mouse", "mouse,multitouch_on_demand")

from app import display  # (after the environment above)

display.configure(Config)  # as the app does: no anti-aliasing with software OpenGL
