"""The converter of the records' tuple fields.

Records keep sequences as tuples (frozen, hashable) but accept any iterable. attrs' converter
``tuple`` does that too, yet type checkers cannot tell what the generic ``tuple`` constructor takes
there and flag every call; this one says it takes any iterable.

Example:
    >>> as_tuple(["a", "b"])
    ('a', 'b')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    """`values` as a tuple."""
    return tuple(values)


__all__ = ["as_tuple"]
