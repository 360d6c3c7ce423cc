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

import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

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
_BUCKET_SHIFT = np.uint64(64 - (BUCKETS - 1).bit_length())  # a hash's top bits that pick its bucket


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
        self._sigs: list[Future[np.ndarray]] = []
        self._pool: ThreadPoolExecutor | None = None

    def add(self, row: int, key: object, text: str) -> bool:
        """Record one row; `key` (hashable) identifies exact copies, `text` is compared for near copies.

        Returns True when the row is an exact copy of an earlier one.
        """
        self.add_many([row], [key], [text])
        return row in self.exact

    def add_many(self, rows: list[int], keys: list[Any], texts: list[str]) -> None:
        """`add` for many rows, in file order (one call per batch of rows: this runs for every row of a file)."""
        seen, exact, buf, buf_rows = self.seen, self.exact, self._buf, self._buf_rows
        for row, key, text in zip(rows, keys, texts, strict=True):
            if self._count >= self.max_rows:
                self.capped = True
                break
            self._count += 1
            first = seen.setdefault(hash(key), row)
            if first != row:
                exact[row] = first
                continue
            norm = normalise(text)
            if norm:
                buf.append(norm)
                buf_rows.append(row)
        if len(buf) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        # Signatures are numpy work, which lets go of the interpreter: one thread makes them on the other core
        # while rows are read (at most two batches ahead, so memory stays bounded).
        if not self._buf:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peftstudio-signatures")
        if len(self._sigs) >= 2:
            self._sigs[-2].result()
        self._sigs.append(self._pool.submit(signatures, self._buf))
        self._rows.append(np.asarray(self._buf_rows, dtype=np.int64))
        self._buf, self._buf_rows = [], []

    def finish(self) -> DuplicateResult:
        self._flush()
        near: dict[int, int] = {}
        if self._sigs:
            sigs = np.concatenate([part.result() for part in self._sigs])
            rows = np.concatenate(self._rows)
            self._sigs, self._rows = [], []
            near = _near_pairs(sigs, rows)
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
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


def signatures(texts: list[bytes], chunk: int = 2048) -> np.ndarray:
    """The (len(texts), BUCKETS) uint16 MinHash signatures of normalised, non-empty texts.

    The texts are laid out as ``SEP + t0 + SEP + t1 + ... + SEP`` (SEP: ``SHINGLE - 1`` zero bytes), so each
    text's windows only see its own bytes and zero padding: a signature depends on its text alone.
    """
    buffer = _SEP + _SEP.join(texts) + _SEP
    counts = np.fromiter((len(t) for t in texts), dtype=np.intp, count=len(texts)) + len(_SEP)
    if len(counts) > chunk:  # a few thousand rows at a time keep the temporaries in the CPU cache
        starts = np.r_[0, np.cumsum(counts)]
        view = memoryview(buffer)
        return np.concatenate([
            _signatures(view[starts[lo]:starts[min(lo + chunk, len(counts))] + SHINGLE], counts[lo:lo + chunk])
            for lo in range(0, len(counts), chunk)])
    return _signatures(buffer, counts)


def _signatures(buffer: bytes | memoryview, counts: np.ndarray) -> np.ndarray:
    n = int(counts.sum())
    # Every 8-byte window as one uint64, read in place (byte stride 1), copied once so the arithmetic runs
    # on contiguous memory, and hashed in place (fewer temporaries: this is the check's hottest loop).
    hashed = np.ndarray((n,), dtype="<u8", buffer=buffer, strides=(1,)).copy()
    hashed *= _MULT
    hashed ^= hashed >> np.uint64(29)
    hashed *= _MULT
    # The top 16 bits (little-endian) are the value, their top 5 bits the bucket; 0xFFFF means "empty bucket".
    value = hashed.view(np.uint16)[3::4] & np.uint16(0xFFFE)
    hashed >>= _BUCKET_SHIFT
    key = hashed.view(np.intp)  # (the bucket, reusing the hashes' memory)
    key += np.repeat(np.arange(0, len(counts) * BUCKETS, BUCKETS, dtype=np.intp), counts)
    sig = np.full(len(counts) * BUCKETS, _EMPTY, dtype=np.uint16)
    np.minimum.at(sig, key, value)
    return sig.reshape(len(counts), BUCKETS)


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of signature rows `a` and `b` (row-wise), ignoring buckets empty in both."""
    both_empty = (a == _EMPTY) & (b == _EMPTY)
    used = BUCKETS - both_empty.sum(axis=-1)
    same = ((a == b) & ~both_empty).sum(axis=-1)
    return same / np.maximum(used, 1)


def _band_keys(sigs: np.ndarray, band: int) -> np.ndarray:
    """A band's 4 bucket values packed losslessly into 41 bits.

    A filled bucket b holds ``b << 11 | x`` with x even (11 bits, lowest clear), an empty one 0xFFFF, so the
    low 11 bits carry everything: 1024 filled states and one empty state, base 1025.
    """
    low = sigs[:, band * BAND:(band + 1) * BAND] & np.uint16(0x7FF)
    low = (low >> np.uint16(1)) + (low & np.uint16(1))
    key = low[:, BAND - 1].astype(np.uint64)
    for j in range(BAND - 2, -1, -1):
        key *= np.uint64(1025)
        key += low[:, j]
    return key


_ALL_EMPTY = sum(1024 * 1025**j for j in range(BAND))  # (also the largest band key)


def _near_pairs(sigs: np.ndarray, rows: np.ndarray, threads: int = 2) -> dict[int, int]:
    """Rows whose signatures agree on a whole band with an earlier row's and are similar enough to it.

    In each band, every member of a run of equal band keys is compared with the run's first member.
    The bands are independent, so `threads` threads share them (numpy releases the GIL); the answer,
    the earliest similar row for each row, does not depend on the order they finish in.

    (A row that is an exact copy of an earlier one has the same signature as its original, which comes
    earlier in every run it is in: taking copies out of the answer afterwards changes no other row's.)
    """
    if len(rows) < 2:
        return {}
    low = _low_bits(sigs)  # the cheap first look at each candidate pair

    def one_band(band: int) -> tuple[np.ndarray, np.ndarray]:
        return _band_pairs(sigs, band, low)

    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            found = list(pool.map(one_band, range(BUCKETS // BAND)))
    else:
        found = [one_band(band) for band in range(BUCKETS // BAND)]
    near: dict[int, int] = {}
    for later, first in found:
        for i, j in zip(rows[later].tolist(), rows[first].tolist(), strict=True):
            lo, hi = min(i, j), max(i, j)
            if hi not in near or near[hi] > lo:
                near[hi] = lo
    return near


# Where a uint64's three lowest 16-bit digits lie among its four uint16s, lowest first.
_DIGITS = (0, 1, 2) if sys.byteorder == "little" else (3, 2, 1)


def _grouped_order(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, keys[order]): indexes that sort `keys` (band keys, below 2**48), equal keys in ascending
    index order, and the sorted keys.

    A least-significant-digit radix sort: one stable sort per 16-bit digit, which numpy does by radix
    (faster than a comparison sort of the 64-bit keys). Each digit is read in place, as every fourth
    uint16 of the keys, so no 64-bit temporaries are made.
    """
    first, *rest = _DIGITS
    order = np.argsort(keys.view(np.uint16)[first::4], kind="stable")
    ordered = keys[order]
    for digit in rest:
        step = np.argsort(ordered.view(np.uint16)[digit::4], kind="stable")
        order, ordered = order[step], ordered[step]
    return order, ordered


def _band_pairs(sigs: np.ndarray, band: int, low: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(later, first) indexes of the similar pairs band `band` brings up (`low`: `_low_bits(sigs)`)."""
    keys = _band_keys(sigs, band)
    order, key = _grouped_order(keys)
    # A band with every bucket empty says nothing: its key is the largest, so those rows come last.
    end = int(np.searchsorted(key, np.uint64(_ALL_EMPTY)))
    later, first = _run_pairs(key[:end], order[:end])
    keep = _similar(sigs, later, first, low=low)
    return later[keep], first[keep]


def _run_pairs(sorted_keys: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(later, first): each member of a run of equal keys after the first, and the run's first member."""
    none = np.zeros(0, dtype=np.intp)
    if len(order) < 2:
        return none, none
    starts = np.empty(len(order), dtype=bool)  # where a run starts
    starts[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=starts[1:])
    same_as_prev = np.flatnonzero(~starts)
    if not len(same_as_prev):
        return none, none
    run = np.cumsum(starts, dtype=np.int32)  # (1 + each place's run number)
    return order[same_as_prev], order[np.flatnonzero(starts)[run[same_as_prev] - 1]]


_BYTE_SUM = np.uint64(0x0101010101010101)


def _count_true(flags: np.ndarray) -> np.ndarray:
    """Per row, how many of the BUCKETS booleans are true (summing eight bytes at a time)."""
    words = flags.view(np.uint64)
    total = words[:, 0].copy()
    for j in range(1, words.shape[1]):
        total += words[:, j]
    return ((total * _BYTE_SUM) >> np.uint64(56)).astype(np.int64)  # type: ignore[no-any-return]


_LOW_BITS = np.uint64(0x5555555555555555)
# A pair can only be similar if at least this many buckets agree in their 2 lowest bits: similar means
# same >= T * (BUCKETS - empty), so same + empty >= T * BUCKETS (+ (1 - T) * empty); both-empty buckets
# agree in every bit, and agreeing values agree in their low bits, so this count is at least same + empty.
_MIN_LOW_AGREE = int(np.ceil(NEAR_THRESHOLD * BUCKETS - 1e-9))


def _low_bits(sigs: np.ndarray) -> np.ndarray:
    """Each signature's buckets' 2 lowest bits, packed into one uint64 per row (b-bit MinHash)."""
    # One byte per bucket, eight buckets per uint64 word; then the bytes' 2-bit values are folded together
    # (pairs of bytes, pairs of those, ...) so bucket j lands in bits 2j and 2j + 1 of its word's 16 bits.
    words = np.ascontiguousarray((sigs & np.uint16(3)).astype(np.uint8)).view(np.uint64)  # (rows, BUCKETS // 8)
    words = (words | (words >> np.uint64(6))) & np.uint64(0x000F000F000F000F)
    words = (words | (words >> np.uint64(12))) & np.uint64(0x000000FF000000FF)
    words = (words | (words >> np.uint64(24))) & np.uint64(0xFFFF)
    packed = words[:, 0].copy()
    for w in range(1, words.shape[1]):
        packed |= words[:, w] << np.uint64(16 * w)
    return packed


def _similar(sigs: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 1 << 16,
             low: np.ndarray | None = None) -> np.ndarray:
    """``similarity(sigs[a], sigs[b]) >= NEAR_THRESHOLD``, computed in chunks with the same arithmetic.

    With `low` (`_low_bits(sigs)`), pairs whose low bits already rule similarity out are dropped first:
    8 bytes a row to read instead of 64, and no answer changes (the filter only removes pairs that
    cannot pass).
    """
    if low is not None and len(a):
        x = low[a] ^ low[b]
        agree = np.bitwise_count(~(x | (x >> np.uint64(1))) & _LOW_BITS)
        maybe = np.flatnonzero(agree >= _MIN_LOW_AGREE)
        out = np.zeros(len(a), dtype=bool)
        out[maybe] = _similar(sigs, a[maybe], b[maybe], chunk)
        return out
    out = np.zeros(len(a), dtype=bool)
    for lo in range(0, len(a), chunk):
        x, y = sigs[a[lo:lo + chunk]], sigs[b[lo:lo + chunk]]
        equal = x == y
        both_empty = equal & (x == _EMPTY)
        empty = _count_true(both_empty)
        same = _count_true(equal) - empty
        out[lo:lo + chunk] = same / np.maximum(BUCKETS - empty, 1) >= NEAR_THRESHOLD
    return out


__all__ = ["NEAR_THRESHOLD", "DuplicateFinder", "DuplicateResult", "normalise", "signatures", "similarity"]
