"""Graphics settings: no anti-aliasing where OpenGL runs in software, Kivy's default on a GPU."""

from __future__ import annotations

import pytest

from app import display


@pytest.mark.parametrize(("software", "samples"), [(True, 0), (False, display.HARDWARE_SAMPLES)])
def test_multisamples_follow_the_renderer(software: bool, samples: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEFTSTUDIO_MULTISAMPLES", raising=False)
    assert display.multisamples(software=software) == samples


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEFTSTUDIO_MULTISAMPLES", "4")
    assert display.multisamples(software=True) == 4


def test_offscreen_and_forced_software_count_as_software(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "offscreen")
    assert display.software_rendering()
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    monkeypatch.setenv("LIBGL_ALWAYS_SOFTWARE", "1")
    assert display.software_rendering()


def test_the_test_window_runs_without_anti_aliasing() -> None:
    from kivy.config import Config

    assert Config.getint("graphics", "multisamples") == 0
