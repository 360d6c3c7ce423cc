"""A lazily exported name never shares its name with a submodule of its package: importing the submodule
(which any use of another of its names does) would bind the module over the name, and
``from peftstudio.data import preview`` would give a module instead of the function."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("package", ["peftstudio", "peftstudio.data"])
def test_no_exported_name_is_shadowed_by_a_submodule(package: str) -> None:
    pkg = importlib.import_module(package)
    for module in set(pkg._EXPORTS.values()):
        importlib.import_module(module)  # as any use of one of its names does
    shadowed = [name for name in pkg._EXPORTS if isinstance(getattr(pkg, name), types.ModuleType)]
    assert not shadowed, shadowed
