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


def test_the_low_bits_filter_never_changes_which_pairs_are_similar() -> None:
    """b-bit MinHash as a first look: it only drops pairs that cannot reach the threshold."""
    import numpy as np

    from peftstudio.data.dedup import BUCKETS, _low_bits, _similar

    rng = np.random.default_rng(4)
    base = rng.integers(0, 0xFFFE, (400, BUCKETS)).astype(np.uint16)
    sigs = base.copy()
    for i in range(1, 400, 2):  # every other row a near copy of its neighbour: 0 to 12 buckets changed
        changed = rng.choice(BUCKETS, int(rng.integers(0, 13)), replace=False)
        sigs[i] = sigs[i - 1]
        sigs[i, changed] = rng.integers(0, 0xFFFE, len(changed))
    sigs[::7, :10] = 0xFFFF  # empty buckets, shared by many rows
    packed = _low_bits(sigs)
    expected = np.zeros(len(sigs), dtype=np.uint64)
    for j in range(BUCKETS):
        expected |= (sigs[:, j] & 3).astype(np.uint64) << np.uint64(2 * j)
    assert (packed == expected).all()
    a = rng.integers(0, 400, 5000)
    b = rng.integers(0, 400, 5000)
    a[:200], b[:200] = np.arange(1, 400, 2), np.arange(0, 400, 2)
    plain = _similar(sigs, a, b)
    assert plain[:200].sum() > 20  # the near copies are there to be found
    assert (_similar(sigs, a, b, low=packed) == plain).all()


def _near_by_hand(sigs, rows) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """The near-copy rule spelled out: per band, every member of a group of equal band values against the
    group's first member (all-empty bands say nothing); the earliest similar row wins."""
    import numpy as np

    from peftstudio.data.dedup import BAND, BUCKETS, NEAR_THRESHOLD

    near: dict[int, int] = {}
    for band in range(BUCKETS // BAND):
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, sig in enumerate(sigs[:, band * BAND:(band + 1) * BAND].tolist()):
            if any(v != 0xFFFF for v in sig):
                groups.setdefault(tuple(sig), []).append(i)
        for members in groups.values():
            for i in members[1:]:
                if similarity(sigs[i], sigs[members[0]]) >= NEAR_THRESHOLD:
                    lo, hi = sorted((int(rows[i]), int(rows[members[0]])))
                    near[hi] = min(near.get(hi, lo), lo)
    assert np.all(np.diff(rows) > 0)
    return near


def test_band_candidates_match_the_rule_spelled_out() -> None:
    """The radix-sorted bands find exactly the pairs the plain rule finds (wide and narrow values, empty
    buckets, copies of copies)."""
    import numpy as np

    from peftstudio.data.dedup import BUCKETS, _near_pairs

    rng = np.random.default_rng(11)
    n = 3000
    # filled buckets hold (bucket << 11 | even 11-bit value), as signatures do; some rows share few values
    values = rng.integers(0, 1024, (n, BUCKETS)) * 2
    values[: n // 3] = rng.integers(0, 3, (n // 3, BUCKETS)) * 2
    sigs = ((np.arange(BUCKETS) << 11) | values).astype(np.uint16)
    sigs[rng.random((n, BUCKETS)) < 0.15] = 0xFFFF
    sigs[::50, :8] = 0xFFFF  # a whole band empty
    for i in range(1, n, 3):  # near copies: a few buckets changed
        j = int(rng.integers(0, i))
        sigs[i] = sigs[j]
        changed = rng.choice(BUCKETS, int(rng.integers(0, 9)), replace=False)
        sigs[i, changed] = sigs[int(rng.integers(0, n)), changed]
    rows = np.cumsum(rng.integers(1, 4, n)) + 1
    expected = _near_by_hand(sigs, rows)
    assert len(expected) > n // 6
    for threads in (1, 2):
        assert _near_pairs(sigs, rows, threads=threads) == expected
