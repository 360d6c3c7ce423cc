from __future__ import annotations

import json

import pytest

from peftstudio.history.safejson import UntrustedJsonError, nesting_depth, parse_untrusted


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [[1]]}', 3),
        ('{"a": "[[[[{{{"}', 1),
        (r'{"a\"[[": [1]}', 2),
        (r'{"a": "\\", "b": [[1]]}', 3),
    ],
)
def test_nesting_depth_ignores_brackets_inside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text, 100) == depth


def test_nesting_depth_stops_early_on_huge_input() -> None:
    assert nesting_depth("[" * 1_000_000, 32) == 33


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b'{"a": 1, "a": 2}', 'the key "a" appears more than once'),
        (b'{"x": {"b": 1, "b": 1}}', 'the key "b" appears more than once'),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b"[NaN]", "NaN is not a number"),
        (b"[Infinity]", "Infinity is not a number"),
        (b'{"a": ', "not valid JSON"),
        (b"[" * 40 + b"]" * 40, "nested more than 32 levels"),
        (b" " * (1024 * 1024 + 1), "more than the 1.0 MB allowed"),
    ],
)
def test_refusals_name_the_problem(data: bytes, needle: str) -> None:
    with pytest.raises(UntrustedJsonError) as info:
        parse_untrusted(data)
    assert needle in info.value.problems[0]


def test_too_many_keys_refused() -> None:
    doc = json.dumps({f"k{i}": i for i in range(2000)}).encode()
    with pytest.raises(UntrustedJsonError, match="2000 keys"):
        parse_untrusted(doc)


def test_plain_document_and_bom_are_read() -> None:
    assert parse_untrusted('\ufeff{"a": [1, "é"]}'.encode()) == {"a": [1, "é"]}
