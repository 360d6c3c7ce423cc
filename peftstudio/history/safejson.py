"""Reading JSON that came from someone else: size, encoding, nesting and repeated keys checked first.

`json.loads` alone is not safe for shared files: a huge file is read whole, a
deeply nested one hits Python's recursion limit (a traceback, not a message),
and a repeated key silently keeps the last value (a "JSON bomb" of thousands
of repeated keys can also be slow). Every problem here becomes one readable
line in `UntrustedJsonError.problems`.

Example:
    >>> parse_untrusted(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> try:
    ...     parse_untrusted(b'{"a": 1, "a": 2}')
    ... except UntrustedJsonError as exc:
    ...     print(exc.problems[0])
    the key "a" appears more than once in the same object
"""

from __future__ import annotations

import json
import re
from typing import Any

from peftstudio.units import human_bytes

#: Refuse files above this size before reading them whole.
DEFAULT_MAX_BYTES = 1024 * 1024
#: Deepest nesting of objects/lists accepted (a preset needs 4).
DEFAULT_MAX_DEPTH = 32
#: Most keys accepted in one object (a preset's largest object has about 20).
DEFAULT_MAX_KEYS = 1000

# The characters that change nesting depth or string state; everything else is skipped quickly.
_STRUCTURE = re.compile(r'\\.|[\[\]{}"]', re.DOTALL)


class UntrustedJsonError(ValueError):
    """A document that was refused; `problems` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def nesting_depth(text: str, limit: int) -> int:
    """The deepest nesting of ``[``/``{`` outside strings, stopping early once above `limit`.

    Example:
        >>> nesting_depth('{"a": [[1]], "b": "[[[["}', 10)
        3
    """
    depth = deepest = 0
    in_string = False
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if in_string:
            # An escape such as \" is one token, so only a bare quote ends the string.
            if token == '"':
                in_string = False
            continue
        if token == '"':
            in_string = True
        elif token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif token in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise UntrustedJsonError([f"{name} is not a number JSON allows; use a plain number"])


def parse_untrusted(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_keys: int = DEFAULT_MAX_KEYS,
) -> Any:
    """Parse `data` (bytes of a file someone gave us) as JSON, refusing anything suspicious.

    Refused: more than `max_bytes`, text that is not UTF-8, a byte-order mark, nesting deeper than
    `max_depth`, an object with a repeated key or more than `max_keys` keys, NaN/Infinity, and text
    that is not JSON. Raises `UntrustedJsonError`.
    """
    if len(data) > max_bytes:
        raise UntrustedJsonError(
            [f"the file is {human_bytes(len(data))}, more than the {human_bytes(max_bytes)} allowed"]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJsonError(
            [f"the file is not UTF-8 text (unreadable byte at position {exc.start})"]
        ) from None
    text = text.removeprefix("\ufeff")
    depth = nesting_depth(text, max_depth)
    if depth > max_depth:
        raise UntrustedJsonError(
            [f"the file is nested more than {max_depth} levels deep; a real file is nested a few levels"]
        )

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(items) > max_keys:
            raise UntrustedJsonError([f"an object has {len(items)} keys, more than the {max_keys} allowed"])
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise UntrustedJsonError([f"the key {json.dumps(key)} appears more than once in the same object"])
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise UntrustedJsonError(
            [f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
        ) from None
    except RecursionError:  # defence in depth: the depth scan above should make this unreachable
        raise UntrustedJsonError(["the file is nested too deeply"]) from None


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_KEYS",
    "UntrustedJsonError",
    "nesting_depth",
    "parse_untrusted",
]
