"""The examples in the data package's docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["peftstudio.lazy", "peftstudio.data", "peftstudio.data.check", "peftstudio.data.dedup",
           "peftstudio.data.readers"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
