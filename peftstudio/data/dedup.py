"""Exact and near-duplicate detection over millions of rows with bounded memory.

Exact copies are found by a 64-bit hash of the example's turns. Near copies use
MinHash with one-permutation hashing: the example's text is normalised
(lower case, punctuation collapsed), cut into overlapping 8-byte shingles,
each hashed once, and the smallest hash in each of 32 buckets is kept (16 bits
each, 64 bytes per row). Rows whose bucket minima agree on a whole band of 4
buckets become candidates; a candidate counts when the estimated similarity
(Jaccard) is at least `NEAR_THRESHOLD`. All of it runs on numpy arrays in
batches, so the Python work per row is one normalisation and one append.

Example:
    >>> d = DuplicateFinder()
    >>> for row, text in enumerate(["The cat sat on the mat today.", "the cat sat on the mat today",
    ...                             "A dog barked at the moon."], 1):
    ...     _ = d.add(row, text, text)
    >>> result = d.finish()
    >>> result.exact, result.near
    ({}, {2: 1})
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

NEAR_THRESHOLD = 0.8
BUCKETS = 32
BAND = 4
SHINGLE = 8
#: Rows whose hashes and signatures are kept; beyond it new rows are not compared (memory stays bounded).
MAX_ROWS = 4_000_000
_BATCH = 4096
_EMPTY = np.uint16(0xFFFF)
_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd constant of Fibonacci hashing


class DuplicateResult(NamedTuple):
    """Row -> earlier row it copies (`exact`) or nearly copies (`near`); `capped` if rows were left out."""

    exact: dict[int, int]
    near: dict[int, int]
    capped: bool

    def groups(self) -> dict[int, int]:
        """Row -> the first row of its group of copies (only rows that have copies)."""
        parent: dict[int, int] = {}

        def root(r: int) -> int:
            while parent.get(r, r) != r:
                r = parent[r]
            return r

        for row, first in [*self.exact.items(), *self.near.items()]:
            a, b = root(row), root(first)
            if a != b:
                parent[max(a, b)] = min(a, b)
        members = set(parent) | set(parent.values())
        return {r: root(r) for r in members}


class DuplicateFinder:
    """Feed rows with `add(row, key_text, text)`, then call `finish()` once."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.max_rows = max_rows
        self.seen: dict[int, int] = {}
        self.exact: dict[int, int] = {}
        self.capped = False
        self._count = 0
        self._buf: list[bytes] = []
        self._buf_rows: list[int] = []
        self._rows: list[np.ndarray] = []
        self._sigs: list[np.ndarray] = []

    def add(self, row: int, key: object, text: str) -> bool:
        """Record one row; `key` (hashable) identifies exact copies, `text` is compared for near copies.

        Returns True when the row is an exact copy of an earlier one.
        """
        if self._count >= self.max_rows:
            self.capped = True
            return False
        self._count += 1
        h = hash(key)
        first = self.seen.get(h)
        if first is not None:
            self.exact[row] = first
            return True
        self.seen[h] = row
        norm = normalise(text)
        if norm:
            self._buf.append(norm)
            self._buf_rows.append(row)
            if len(self._buf) >= _BATCH:
                self._flush()
        return False

    def _flush(self) -> None:
        if not self._buf:
            return
        self._sigs.append(signatures(self._buf))
        self._rows.append(np.asarray(self._buf_rows, dtype=np.int64))
        self._buf, self._buf_rows = [], []

    def finish(self) -> DuplicateResult:
        self._flush()
        near: dict[int, int] = {}
        if self._sigs:
            sigs = np.concatenate(self._sigs)
            rows = np.concatenate(self._rows)
            self._sigs, self._rows = [], []
            near = _near_pairs(sigs, rows)
        return DuplicateResult(dict(self.exact), near, self.capped)


# Normalisation as one bytes.translate: ASCII letters lower-cased, ASCII punctuation and white space removed
# (so "Hello,  world!" and "hello world" compare equal); non-ASCII bytes are kept.
_TABLE = bytes(c + 32 if 65 <= c <= 90 else c for c in range(256))
_DELETE = bytes(c for c in range(128) if not chr(c).isalnum())
_SEP = bytes(SHINGLE - 1)  # zero bytes before each text: windows never span two texts


def normalise(text: str) -> bytes:
    """The bytes near-duplicate detection compares.

    Example:
        >>> normalise("Hello,  World!")
        b'helloworld'
    """
    return text.encode("utf-8", "surrogatepass").translate(_TABLE, _DELETE)


def signatures(texts: list[bytes]) -> np.ndarray:
    """The (len(texts), BUCKETS) uint16 MinHash signatures of normalised, non-empty texts."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)) + len(_SEP)
    buffer = _SEP + _SEP.join(texts) + bytes(SHINGLE)
    n = int(lengths.sum())
    # Every 8-byte window as one uint64, read in place (byte stride 1); a short text gives padded windows.
    windows = np.ndarray((n,), dtype="<u8", buffer=buffer, strides=(1,))
    owner = np.repeat(np.arange(len(texts)), lengths)
    hashed = windows * _MULT
    hashed ^= hashed >> np.uint64(29)
    hashed *= _MULT
    key = owner * BUCKETS + (hashed >> np.uint64(59)).astype(np.int64)
    value = (hashed >> np.uint64(48)).astype(np.uint16) & np.uint16(0xFFFE)  # 0xFFFF means "empty bucket"
    sig = np.full(len(texts) * BUCKETS, _EMPTY, dtype=np.uint16)
    np.minimum.at(sig, key, value)
    return sig.reshape(len(texts), BUCKETS)


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of signature rows `a` and `b` (row-wise), ignoring buckets empty in both."""
    both_empty = (a == _EMPTY) & (b == _EMPTY)
    used = BUCKETS - both_empty.sum(axis=-1)
    same = ((a == b) & ~both_empty).sum(axis=-1)
    return same / np.maximum(used, 1)


def _near_pairs(sigs: np.ndarray, rows: np.ndarray) -> dict[int, int]:
    near: dict[int, int] = {}
    bands = np.ascontiguousarray(sigs).view(np.uint64)  # 4 uint16 buckets = one uint64 band key
    for b in range(bands.shape[1]):
        key = bands[:, b]
        valid = np.flatnonzero((sigs[:, b * BAND:(b + 1) * BAND] != _EMPTY).any(axis=1))
        if len(valid) < 2:
            continue
        order = valid[np.argsort(key[valid], kind="stable")]
        sorted_keys = key[order]
        same_as_prev = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
        if not len(same_as_prev):
            continue
        # Compare each member of a run of equal keys with the run's first member.
        run_start = np.maximum.accumulate(np.where(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]],
                                                   np.arange(len(order)), 0))
        later, first = order[same_as_prev], order[run_start[same_as_prev]]
        keep = similarity(sigs[later], sigs[first]) >= NEAR_THRESHOLD
        for i, j in zip(rows[later[keep]].tolist(), rows[first[keep]].tolist()):
            lo, hi = min(i, j), max(i, j)
            if hi not in near or near[hi] > lo:
                near[hi] = lo
    return near


__all__ = ["NEAR_THRESHOLD", "DuplicateFinder", "DuplicateResult", "signatures", "similarity"]
