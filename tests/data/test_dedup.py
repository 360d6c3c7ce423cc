"""Exact and near-duplicate detection."""

from __future__ import annotations

import random

from peftstudio.data.dedup import DuplicateFinder, normalise, signatures, similarity


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(500)]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(8, 40))) for _ in range(n)]


def test_exact_and_near_copies_are_found_and_distinct_texts_are_not() -> None:
    texts = _texts(3000)
    texts[1500] = texts[10]
    texts[2000] = texts[20].upper() + " !!"
    texts[2500] = texts[30] + " w1"  # one extra word on a long text
    d = DuplicateFinder()
    for row, t in enumerate(texts, 1):
        d.add(row, t, t)
    result = d.finish()
    assert result.exact == {1501: 11}
    assert result.near.get(2001) == 21
    assert set(result.near) - {2001, 2501} == set()


def test_similar_but_different_short_texts_are_not_near_copies() -> None:
    a, b = "What is the capital of France?", "What is the capital of Spain?"
    sig = signatures([normalise(a), normalise(b)])
    assert similarity(sig[0], sig[1]) < 0.8


def test_groups_join_chains_of_copies() -> None:
    d = DuplicateFinder()
    for row, t in [(1, "alpha beta gamma delta"), (2, "x y z"), (3, "alpha beta gamma delta"),
                   (4, "ALPHA beta gamma delta!")]:
        d.add(row, t, t)
    groups = d.finish().groups()
    assert groups[3] == 1 and groups[4] == 1 and 2 not in groups


def test_memory_cap_stops_comparing() -> None:
    d = DuplicateFinder(max_rows=2)
    for row in range(1, 5):
        d.add(row, "same", "same")
    result = d.finish()
    assert result.capped and result.exact == {2: 1}
