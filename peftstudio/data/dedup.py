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
from collections.abc import Sequence
from concurrent.futures import Executor
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


class BatchDuplicateFinder:
    """`DuplicateFinder` fed in batches of rows with precomputed `row_digests` and signatures.

    Rows must come in ascending order across calls. Exact copies are decided at `finish` (the first row
    with the same digest is the original), so signatures are given for every row with a non-empty
    normalised text, copies included; copies are left out of the near-duplicate comparison, as in
    `DuplicateFinder`.
    """

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.max_rows = max_rows
        self.capped = False
        self._count = 0
        self._rows: list[np.ndarray] = []
        self._digests: list[np.ndarray] = []
        self._sig_rows: list[np.ndarray] = []
        self._sigs: list[np.ndarray] = []
        self._lows: list[np.ndarray] = []
        self._bands: list[np.ndarray] = []

    def add(self, rows: np.ndarray, digests: np.ndarray, sig_rows: np.ndarray, sigs: np.ndarray,
            lows: np.ndarray | None = None, bands: np.ndarray | None = None) -> None:
        """Record `rows` (ascending) with their digests, and the signatures of `sig_rows` (a subset).

        `lows` and `bands`: the signatures' `_low_bits` and `band_keys`, when already made (else they are
        made here).
        """
        if lows is None:
            lows = _low_bits(sigs)
        if bands is None:
            bands = band_keys(sigs)
        room = self.max_rows - self._count
        if len(rows) > room:
            self.capped = True
            rows, digests = rows[:room], digests[:room]
            keep = sig_rows <= rows[-1] if len(rows) else np.zeros(len(sig_rows), dtype=bool)
            sig_rows, sigs, lows, bands = sig_rows[keep], sigs[keep], lows[keep], bands[:, keep]
        self._count += len(rows)
        if len(rows):
            self._rows.append(rows)
            self._digests.append(digests)
        if len(sig_rows):
            self._sig_rows.append(sig_rows)
            self._sigs.append(sigs)
            self._lows.append(lows)
            self._bands.append(bands)

    def finish(self) -> DuplicateResult:
        from concurrent.futures import ThreadPoolExecutor

        # The exact copies and the near copies' bands are independent work: threads share all of it
        # (numpy releases the GIL), and the copies are only needed to leave them out at the end.
        with ThreadPoolExecutor(max_workers=FINISH_THREADS) as pool:
            exact_copies = pool.submit(_exact_copies, self._rows, self._digests)
            near: dict[int, int] = {}
            if self._sigs:
                sig_rows = np.concatenate(self._sig_rows)
                sigs = np.concatenate(self._sigs)
                lows = np.concatenate(self._lows)
                bands = [[part[band] for part in self._bands] for band in range(BUCKETS // BAND)]
                self._sig_rows, self._sigs, self._lows, self._bands = [], [], [], []
                near = _near_pairs(sigs, sig_rows, low=lows, bands=bands, pool=pool)
            exact = exact_copies.result()
        for row in exact.keys() & near.keys():
            del near[row]  # copies get no near copy of their own (see `_near_pairs`)
        return DuplicateResult(exact, near, self.capped)


#: Threads that share the duplicate search's final work.
FINISH_THREADS = 2


def _exact_copies(row_parts: list[np.ndarray], digest_parts: list[np.ndarray]) -> dict[int, int]:
    """Row -> the first earlier row with the same digest (`row_parts` ascending, with their digests)."""
    exact: dict[int, int] = {}
    if not row_parts:
        return exact
    rows = np.concatenate(row_parts)
    digests = np.concatenate(digest_parts)
    ordered = np.sort(digests)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(repeated):
        first: dict[int, int] = {}
        involved = np.flatnonzero(np.isin(digests, repeated))
        for row, digest in zip(rows[involved].tolist(), digests[involved].tolist(), strict=True):
            original = first.setdefault(digest, row)
            if original != row:
                exact[row] = original
    return exact


_K = [np.uint64(c) for c in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x9E3779B97F4A7C15, 0xD6E8FEB86659FD93,
                             0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3)]
_S33 = np.uint64(33)


def _fmix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place."""
    h ^= h >> _S33
    h *= _K[0]
    h ^= h >> _S33
    h *= _K[1]
    h ^= h >> _S33
    return h


def _segment_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sums (mod 2**64) of ``values[offsets[i]:offsets[i + 1]]``; empty segments sum to 0."""
    cumulative = np.zeros(len(values) + 1, dtype=np.uint64)
    np.cumsum(values, out=cumulative[1:])
    return cumulative[offsets[1:]] - cumulative[offsets[:-1]]  # type: ignore[no-any-return]


def row_digests(data: bytes, content_offsets: np.ndarray, roles: np.ndarray, turn_offsets: np.ndarray,
                chunk: int = 8192) -> np.ndarray:
    """A 64-bit digest per row of turns: equal exactly when the rows' (role, content) turns are equal.

    `data` holds the contents' UTF-8 bytes and at least 8 more bytes; content i is
    ``data[content_offsets[i]:content_offsets[i + 1]]`` with role code `roles[i]`; row r has the turns
    ``turn_offsets[r]:turn_offsets[r + 1]``, whose contents lie one after the other in `data`. (Equal
    digests for different rows are as unlikely as a 64-bit hash collision.) Rows are hashed `chunk` at a
    time, so the temporaries stay in the CPU's cache.

    Example:
        >>> import numpy as np
        >>> data = b"HiHelloHiHello" + bytes(8)
        >>> d = row_digests(data, np.array([0, 2, 7, 9, 14]), np.array([1, 2, 1, 2]), np.array([0, 2, 4]))
        >>> bool(d[0] == d[1])
        True
    """
    windows = np.ndarray((len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
    rows = len(turn_offsets) - 1
    if rows <= chunk:
        return _row_digests(windows, content_offsets, roles, turn_offsets)
    return np.concatenate([_row_digests(windows, content_offsets, roles, turn_offsets[lo:min(lo + chunk, rows) + 1])
                           for lo in range(0, rows, chunk)])


_S29, _S32 = np.uint64(29), np.uint64(32)
_ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)


def _row_digests(windows: np.ndarray, content_offsets: np.ndarray, roles: np.ndarray, turn_offsets: np.ndarray
                 ) -> np.ndarray:
    """`row_digests` of the rows ``turn_offsets`` covers (its turn indexes may start past 0)."""
    first_turn = int(turn_offsets[0])
    offsets = turn_offsets.astype(np.int64) - first_turn
    co = content_offsets[first_turn:int(turn_offsets[-1]) + 1].astype(np.int64)
    # Each row's contents as one string of 8-byte words (the last one masked to the row's bytes)...
    row_start, row_length = co[offsets[:-1]], co[offsets[1:]] - co[offsets[:-1]]
    words_per = (row_length + 7) >> 3
    word_offsets = np.zeros(len(words_per) + 1, dtype=np.int64)
    np.cumsum(words_per, out=word_offsets[1:])
    k = np.arange(int(word_offsets[-1]), dtype=np.int64)
    k -= np.repeat(word_offsets[:-1], words_per)  # each word's place in its row
    pos = np.repeat(row_start, words_per)
    pos += k << 3
    words = windows[pos]
    has = words_per > 0
    left = (row_length - 8 * (words_per - 1))[has]  # 1..8 bytes in the last word
    words[word_offsets[1:][has] - 1] &= _ALL_BITS >> (np.uint64(8) * (8 - left).astype(np.uint64))
    place = k.view(np.uint64)
    place *= _K[2]
    place += _K[3]
    words ^= place
    words *= _K[0]  # (a multiply-xorshift mix of each word with its place, in place)
    words ^= words >> _S29
    words *= _K[1]
    words ^= words >> _S32
    per_row = _segment_sums(words, word_offsets)
    # ... and where its turns start and end, and their roles.
    lengths = np.diff(co)
    nturns = np.diff(offsets)
    turn_place = np.arange(len(lengths), dtype=np.int64) - np.repeat(offsets[:-1], nturns)
    turn = lengths.astype(np.uint64) * _K[4]
    turn ^= (roles[first_turn:first_turn + len(lengths)].astype(np.uint64) + np.uint64(1)) * _K[5]
    turn += turn_place.astype(np.uint64) * _K[6]
    per_row ^= _segment_sums(_fmix(turn), offsets) * _K[1]
    per_row += nturns.astype(np.uint64) * _K[2]
    return _fmix(per_row)


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
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    return signatures_of_buffer(_SEP + _SEP.join(texts) + _SEP, lengths)


def signatures_of_buffer(buffer: bytes, lengths: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """`signatures` of texts already laid out as ``SEP + t0 + SEP + t1 + ... + SEP``.

    `lengths` are the texts' lengths; SEP is ``SHINGLE - 1`` zero bytes. Each text's windows only see its
    own bytes and zero padding, so a signature depends on its text alone.
    """
    counts = lengths.astype(np.intp) + len(_SEP)
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


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """Every band's `_band_keys`: a (BUCKETS // BAND, len(sigs)) uint64 array, one row per band."""
    out = np.empty((BUCKETS // BAND, len(sigs)), dtype=np.uint64)
    for band in range(BUCKETS // BAND):
        out[band] = _band_keys(sigs, band)
    return out


_ALL_EMPTY = sum(1024 * 1025**j for j in range(BAND))  # (also the largest band key)


def _near_pairs(sigs: np.ndarray, rows: np.ndarray, threads: int = 2, low: np.ndarray | None = None,
                bands: Sequence[Sequence[np.ndarray]] | None = None, pool: Executor | None = None
                ) -> dict[int, int]:
    """Rows whose signatures agree on a whole band with an earlier row's and are similar enough to it.

    In each band, every member of a run of equal band keys is compared with the run's first member.
    The bands are independent, so `threads` threads (or `pool`'s) share them (numpy releases the GIL);
    the answer, the earliest similar row for each row, does not depend on the order they finish in.
    `low`: `_low_bits(sigs)` when already made; `bands`: per band, the parts whose concatenation is its
    `_band_keys(sigs, band)`, when already made.

    (A row that is an exact copy of an earlier one has the same signature as its original, which comes
    earlier in every run it is in: taking copies out of the answer afterwards changes no other row's.)
    """
    if len(rows) < 2:
        return {}
    low = _low_bits(sigs) if low is None else low  # the cheap first look at each candidate pair
    work = [(b, None if bands is None else bands[b]) for b in range(BUCKETS // BAND)]

    def one_band(w: tuple[int, Sequence[np.ndarray] | None]) -> tuple[np.ndarray, np.ndarray]:
        band, parts = w
        keys = None if parts is None else parts[0] if len(parts) == 1 else np.concatenate(parts)
        return _band_pairs(sigs, band, low, keys)

    # (threads, not processes: numpy releases the GIL here, and forking a process this big would count
    # its memory again in every worker)
    if pool is not None:
        found = list(pool.map(one_band, work))
    elif threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as own:
            found = list(own.map(one_band, work))
    else:
        found = [one_band(w) for w in work]
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


def _band_pairs(sigs: np.ndarray, band: int, low: np.ndarray | None = None, keys: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(later, first) indexes of the similar pairs band `band` brings up.

    `low`: `_low_bits(sigs)`; `keys`: the band's `_band_keys(sigs, band)`, when already made.
    """
    keys = _band_keys(sigs, band) if keys is None else np.ascontiguousarray(keys)  # (read as uint16s below)
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


__all__ = [
    "NEAR_THRESHOLD", "BatchDuplicateFinder", "band_keys", "DuplicateFinder", "DuplicateResult", "row_digests", "signatures",
    "signatures_of_buffer", "similarity",
]
