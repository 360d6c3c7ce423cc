"""Every docstring example of the library runs: what the docs show a reader is what the code does.

A module whose examples need something a test machine lacks is listed in SKIPPED with the reason.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import peftstudio

#: module -> why its examples are not run here
SKIPPED: dict[str, str] = {}


def _modules() -> list[str]:
    names = [peftstudio.__name__]
    for info in pkgutil.walk_packages(peftstudio.__path__, prefix="peftstudio."):
        if ".samples" not in info.name:
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    if name in SKIPPED:
        pytest.skip(SKIPPED[name])
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs=vars(module).copy()):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"
