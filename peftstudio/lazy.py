"""Packages whose public names are imported from their modules on first use.

`peftstudio` and `peftstudio.data` list their names and where each is defined; nothing heavy (torch,
transformers, the dataset builder) is imported until a name that needs it is used.

Example:
    >>> space = {"__name__": "demo"}
    >>> getattr_, dir_ = lazy_names(space, {"sqrt": "math"})
    >>> getattr_("sqrt")(9.0), "sqrt" in space, dir_()
    (3.0, True, ['sqrt'])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(namespace: dict[str, Any], exports: Mapping[str, str]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module-level ``__getattr__`` and ``__dir__`` for `exports` (name -> defining module).

    A name is imported on first use and kept in `namespace` (the package's ``globals()``), so later uses
    cost nothing; ``dir()`` lists the package's ``__all__`` (or else the exported names).
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return list(namespace.get("__all__", sorted(exports)))

    return __getattr__, __dir__


__all__ = ["lazy_names"]
