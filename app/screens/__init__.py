"""The app's screens, one folder each (``<name>/<name>.py`` and ``<name>/<name>.kv``).

`SCREENS` maps a screen's name to its class path; `load(name)` imports the module (which loads its kv
file) and returns the class. Part 2 of the app adds its screens here the same way.
"""

from __future__ import annotations

import importlib

SCREENS: dict[str, str] = {
    "home": "app.screens.home.home:HomeScreen",
    "welcome": "app.screens.welcome.welcome:WelcomeScreen",
    "usecase": "app.screens.usecase.usecase:UseCaseScreen",
    "model": "app.screens.model.model:ModelScreen",
    "data": "app.screens.data.data:DataScreen",
    "settings": "app.screens.settings.settings:SettingsScreen",
    "review": "app.screens.review.review:ReviewScreen",
    "dashboard": "app.screens.dashboard.dashboard:DashboardScreen",
    "playground": "app.screens.playground.playground:PlaygroundScreen",
    "presets": "app.screens.presets.presets:PresetsScreen",
    "compare": "app.screens.compare.compare:CompareScreen",
    "versions": "app.screens.versions.versions:VersionsScreen",
    "export": "app.screens.export.export:ExportScreen",
}


def load(name: str) -> type:
    module, _, cls = SCREENS[name].partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]
