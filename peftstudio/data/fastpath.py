"""The data check's fast path: UTF-8 JSONL chat files read in blocks with Arrow, checked on whole columns.

The file is cut into blocks of whole lines. A block whose every line starts with ``{`` is parsed by
``pyarrow.json``; when it gives one row per line (so row i is line ``first + i``), each row's turns are
checked on Arrow and numpy arrays: the turn order, empty texts, token estimates, exact-copy digests and
near-copy signatures. Rows that are not plainly fine there (a missing or empty field, an odd role, a
wrong turn order) are parsed again one by one exactly as the streaming check does, and so are whole
blocks Arrow cannot take (a broken line, a blank line, other encodings of JSON); text that might hold
control characters or personal data is handed to the same `row_flags` the streaming check uses. The
result is the same report as the row-by-row check, only faster: `run` feeds the same `Tally`.

Example:
    >>> import tempfile, pathlib
    >>> from peftstudio.data.check import check_file
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "chat.jsonl"
    >>> row = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}'
    >>> _ = p.write_text(row + "\\n" + row + "\\n{broken\\n")
    >>> report = check_file(p)
    >>> report.rows, report.finding("exact_duplicate").rows, report.finding("malformed_json").rows
    (3, (2,), (3,))
"""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np

from peftstudio.data.chat_columns import (
    ROLE_CODES,
    bools,
    bytes_of,
    chat_turns,
    ints,
    pc,
    segment_sum,
    string_offsets,
)
from peftstudio.data.check import Tally, _RowClassifier, convert_row, row_flags
from peftstudio.data.dedup import (
    _DELETE,
    _SEP,
    _TABLE,
    BatchDuplicateFinder,
    _low_bits,
    band_keys,
    normalise,
    row_digests,
    signatures,
    signatures_of_buffer,
)
from peftstudio.data.detect import Example
from peftstudio.data.findings import Structure
from peftstudio.data.parallel import MAX_PROCESSES, Slots, cores, fork_pool
from peftstudio.data.readers import MAX_LINE_BYTES, Source, jsonl_row

#: Bytes read per block.
BLOCK_BYTES = 8 << 20
#: Threads parsing and computing blocks ahead of the one being taken in (0: all on the calling thread).
WORKERS = 2
#: Files at least this big are parsed and computed in forked worker processes, one per core (see
#: `peftstudio.data.parallel`); smaller ones are not worth the processes.
PROCESS_MIN_BYTES = 64 << 20
#: Bytes of shared memory per block in flight for the workers' results (only what is written is used).
SLOT_BYTES = 16 << 20
# Bytes that are never control characters: tab, newline, CR, printable ASCII and every non-ASCII byte
# (the zero-width characters among those are looked for separately).
_SAFE = frozenset([9, 10, 13, *range(32, 127), *range(128, 256)])
_ZERO_WIDTH = tuple(ch.encode() for ch in "\u200b\u200c\u200d\u2060\ufeff")
_CONTROL_RE2 = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x{200b}-\\x{200d}\\x{2060}\\x{feff}]"
# Phone numbers need 9 characters in a row from [digits ().-] (see check._PHONE): in ASCII text the
# candidates are found by mapping those bytes to "1" and looking for "111111111".
# One pass of bytes.translate maps every byte to what these searches look for: control characters to
# NUL, "@" to itself, phone-number characters to "1", everything else to "0".
_SCAN = bytes(0 if c not in _SAFE else 64 if c == 64 else 49 if chr(c) in "0123456789 ().-" else 48
              for c in range(256))
_PHONE_RUN = re.compile(b"1{9,}")
_PHONE_RE2 = "[0-9\\pN][0-9\\pN ().-]{7,}[0-9\\pN]"


class _Bail(Exception):
    """The file cannot take the fast path (a line longer than a block can hold)."""


def usable(source: Source, structure: Structure, *, tokenizer: Any = None, mapping: Mapping[str, str] | None = None,
           validation_path: object = None) -> bool:
    """Whether `run` applies: a UTF-8 JSONL chat file, estimated token counts, no mapping or validation file."""
    return (source.format == "jsonl" and source.encoding.codec == "utf-8" and not source.encoding.binary
            and not source.empty and tokenizer is None and not mapping and validation_path is None
            and structure.name in ("chat", "sharegpt"))


def run(source: Source, structure: Structure, tally: Tally, dups: BatchDuplicateFinder, *,
        processes: int | None = None) -> int | None:
    """Check every row of `source` into `tally` and `dups`; returns how many rows were checked on columns.

    None means the file needs the streaming check instead (`tally` and `dups` then hold part of the
    file and must be thrown away). `processes`: worker processes to use where forking is safe
    (default: one per core for files of `PROCESS_MIN_BYTES` or more, else none; threads otherwise);
    the report is the same either way.
    """
    checker = _Checker(structure, tally, dups)
    if processes is None:
        processes = _default_processes(source)
    if processes > 1:
        done = _run_in_processes(source, checker, processes)
        if done is not False:
            return done
        checker = _Checker(structure, tally, dups)  # (nothing was taken in: no pool here, use threads)
    # Blocks are parsed and computed on worker threads (Arrow and numpy release the GIL) and taken in in
    # file order on this one, so the result does not depend on the threads.
    with ThreadPoolExecutor(max_workers=max(1, WORKERS)) as pool:
        pending: deque[tuple[int, np.ndarray, bytes, Future[_Columns | None]]] = deque()
        try:
            for first_line, newlines, block in _blocks(source):
                if WORKERS == 0:
                    checker.block(first_line, newlines, block, _columns(block, newlines, checker.column))
                    continue
                pending.append((first_line, newlines, block, pool.submit(_columns, block, newlines, checker.column)))
                while len(pending) > WORKERS:
                    first, nl, data, ready = pending.popleft()
                    checker.block(first, nl, data, ready.result())
        except _Bail:
            for *_, ready in pending:
                ready.cancel()
            return None
        while pending:
            first, nl, data, ready = pending.popleft()
            checker.block(first, nl, data, ready.result())
    return checker.columnar


def _default_processes(source: Source) -> int:
    try:
        size = source.path.stat().st_size
    except OSError:
        return 0
    return min(cores(), MAX_PROCESSES) if size >= PROCESS_MIN_BYTES else 0


def _run_in_processes(source: Source, checker: _Checker, processes: int) -> int | None | bool:
    """`run` with blocks read and computed in `processes` forked worker processes, taken in here in order.

    Only the block boundaries are found here (a short read at each); each worker reads its own block,
    so the file's bytes never cross between processes, and only compact results come back. Returns
    False, before anything was taken in, when no process can be started (the caller then uses threads).
    """
    global _SLOTS
    from concurrent.futures.process import BrokenProcessPool

    import pyarrow.json  # noqa: F401 - imported once here, before the fork, rather than in every worker

    ahead = 2 * processes  # blocks in flight beyond the one being taken in, so memory stays bounded
    try:
        slots = Slots(ahead + 1, SLOT_BYTES)
    except (OSError, ValueError):  # (no shared memory to be had: threads instead)
        return False
    _SLOTS = slots  # (before the fork: the workers write into it)
    pool = fork_pool(processes)
    if pool is None:
        _SLOTS = None
        slots.close()
        return False
    first_line, taken = 1, 0
    pending: deque[tuple[int, Future[_Shipped]]] = deque()
    path, column = str(source.path), checker.column
    try:
        with pool:
            try:
                for start, end in _ranges(source, processes):
                    slot = slots.acquire()
                    pending.append((slot, pool.submit(_columns_at, path, start, end, column, slot)))
                    while len(pending) > ahead:
                        first_line = _take(checker, first_line, slots, *pending.popleft())
                        taken += 1
                while pending:
                    first_line = _take(checker, first_line, slots, *pending.popleft())
                    taken += 1
            except _Bail:
                for _, ready in pending:
                    ready.cancel()
                return None
    except (BrokenProcessPool, OSError):
        if taken:
            raise
        return False
    finally:
        _SLOTS = None
        slots.close()
    return checker.columnar


#: The shared memory the forked workers hand their results back in (set in the parent before the fork).
_SLOTS: Slots | None = None
#: A worker's result for one block: (its line count, its newlines and bytes when rows must be read again
#: one by one here, else None and b"", and its column work as (arrays or where they lie, suspect texts)).
_Shipped = tuple[int, "np.ndarray | None", bytes, "tuple[dict[str, Any], list[tuple[int, str]]] | None"]


def _take(checker: _Checker, first_line: int, slots: Slots, slot: int, result: Future[_Shipped]) -> int:
    lines, newlines, block, shipped = result.result()
    arrays = slots.take(slot, shipped[0] if shipped is not None else {})
    ready = _Columns(suspect_texts=shipped[1], **arrays) if shipped is not None else None
    checker.block(first_line, newlines, block, ready)
    return first_line + lines


def _ranges(source: Source, processes: int = 1) -> Iterator[tuple[int, int]]:
    """(start, end) byte ranges of blocks of whole lines (each ends after a newline, or at the file's end).

    Blocks get smaller towards the file's end, so the `processes` workers finish close together instead
    of one working alone on the last big block.
    """
    size = source.path.stat().st_size
    pos = source.encoding.bom
    with open(source.path, "rb") as fh:
        while pos < size:
            end = pos + max(min(BLOCK_BYTES, (size - pos) // (2 * processes)), BLOCK_BYTES // 4, 1)
            if end >= size:
                yield pos, size
                return
            fh.seek(end)
            scanned = 0
            while True:
                chunk = fh.read(1 << 16)
                cut = chunk.find(b"\n")
                if cut >= 0:
                    end += scanned + cut + 1
                    break
                if not chunk:
                    end = size
                    break
                scanned += len(chunk)
                if scanned > MAX_LINE_BYTES // 2:
                    raise _Bail
            yield pos, end
            pos = end


def _columns_at(path: str, start: int, end: int, column: str, slot: int) -> _Shipped:
    """One block's result (see `_Shipped`), read and computed in a worker; big arrays go in `slot`."""
    with open(path, "rb") as fh:
        fh.seek(start)
        block = fh.read(end - start)
    newlines = _newlines(block)
    ready = _columns(block, newlines, column)
    needed = ready is None or not bool(ready.clean.all())  # rows read again one by one need their lines
    shipped = None
    if ready is not None:
        arrays = ready.arrays()
        shipped = (_SLOTS.put(slot, arrays) if _SLOTS is not None else arrays, ready.suspect_texts)
    return len(newlines), newlines if needed else None, block if needed else b"", shipped


def _blocks(source: Source) -> Iterator[tuple[int, np.ndarray, bytes]]:
    """(number of its first line, positions of its newlines, bytes) of blocks of whole lines."""
    with open(source.path, "rb") as fh:
        fh.read(source.encoding.bom)
        line, rest = 1, b""
        while True:
            data = fh.read(BLOCK_BYTES)  # (read at each call: tests use small blocks)
            if not data:
                if rest:
                    yield line, _newlines(rest), rest
                return
            block = rest + data if rest else data
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                if len(block) > MAX_LINE_BYTES // 2:
                    raise _Bail
                rest = block
                continue
            rest = block[cut:]
            block = block[:cut]
            newlines = _newlines(block)
            yield line, newlines, block
            line += len(newlines)


def _newlines(block: bytes) -> np.ndarray:
    return np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)  # (bytes.count is slower)


class _Checker:
    def __init__(self, structure: Structure, tally: Tally, dups: BatchDuplicateFinder) -> None:
        self.structure = structure
        self.column = structure.columns.get("messages") or structure.columns.get("conversations") or "messages"
        self.classifier = _RowClassifier(structure)
        self.tally = tally
        self.dups = dups
        self.columnar = 0  # rows checked on Arrow columns

    # ------------------------------------------------------------ one block

    def block(self, first_line: int, newlines: np.ndarray | None, block: bytes, ready: _Columns | None) -> None:
        """Take one block's rows in (`ready`: its column work from `_columns`, None: read line by line).

        `newlines` and `block` may be None and b"" when `ready` says every row is clean.
        """
        batch = _Batch()
        if ready is None:
            self._slow_lines(batch, first_line, io.BytesIO(block))
        else:
            self._fast_rows(batch, first_line, block, newlines, ready)
        self._finish(batch)

    def _slow_lines(self, batch: _Batch, first_line: int, lines: Any, numbers: Any = None) -> None:
        """Rows read line by line, as the streaming check reads them."""
        for i, line in enumerate(lines):
            lineno = first_line + (i if numbers is None else numbers[i])
            raw = jsonl_row(lineno, line)
            if raw is None:
                continue
            self.tally.total += 1
            ex, problem, detail = convert_row(raw, self.structure, self.classifier)
            if problem is not None:
                batch.events.append((lineno, problem, detail))
                if problem == "mixed_structures":
                    self.tally.other_structures[detail] += 1
                continue
            assert ex is not None
            text = self.tally.example(lineno, ex, lambda code, row, detail: batch.events.append((row, code, detail)))
            batch.slow.append((lineno, ex, text))

    def _fast_rows(self, batch: _Batch, first_line: int, block: bytes, newlines: np.ndarray | None,
                   ready: _Columns) -> None:
        tally = self.tally
        clean = ready.clean
        rows = np.flatnonzero(clean)
        if len(rows) < len(clean):
            assert newlines is not None
            starts = np.r_[0, newlines + 1]
            if starts[-1] < len(block):
                starts = np.r_[starts, len(block)]
            unclean = np.flatnonzero(~clean)
            lines = (block[starts[i]:starts[i + 1]] for i in unclean.tolist())
            self._slow_lines(batch, first_line, lines, unclean.tolist())
        tally.total += len(rows)
        self.columnar += len(rows)
        if not len(rows):
            return
        every = len(rows) == len(clean)  # (the usual case: no arrays to pick rows from)
        numbers = rows + first_line
        estimate = ready.estimate if every else ready.estimate[rows]
        tally.lengths.frombytes(estimate.astype(np.int64, copy=False).tobytes())
        tally.longest = max(tally.longest, int(estimate.max()))
        batch.too_long = numbers[estimate > tally.limit]
        for r, text in ready.suspect_texts:
            batch.events.extend((first_line + r, code, detail) for code, detail in row_flags(text))
        with_text = clean & ready.has_text
        digests = ready.digests if every else ready.digests[rows]
        if every and with_text.all():
            batch.fast = _Part(numbers, digests, numbers, ready.sigs, ready.lows, ready.bands)
        else:
            batch.fast = _Part(numbers, digests, np.flatnonzero(with_text) + first_line, ready.sigs[with_text],
                               ready.lows[with_text], ready.bands[:, with_text])

    # ------------------------------------------------------------ merging

    def _finish(self, batch: _Batch) -> None:
        self.tally.merge(batch.events, batch.too_long)
        parts = [batch.fast] if batch.fast is not None else []
        if batch.slow:
            parts.append(_slow_part(batch.slow))
        if not parts:
            return
        if len(parts) == 1:
            self.dups.add(*parts[0])
            return
        rows = np.concatenate([p.rows for p in parts])
        digests = np.concatenate([p.digests for p in parts])
        sig_rows = np.concatenate([p.sig_rows for p in parts])
        sigs = np.concatenate([p.sigs for p in parts])
        lows = np.concatenate([p.lows for p in parts])
        bands = np.concatenate([p.bands for p in parts], axis=1)
        # rows must reach the finder in file order
        order = np.argsort(rows, kind="stable")
        rows, digests = rows[order], digests[order]
        order = np.argsort(sig_rows, kind="stable")
        self.dups.add(rows, digests, sig_rows[order], sigs[order], lows[order], bands[:, order])


class _Columns:
    """A block's column work, done away from the check's state (in a worker thread or process).

    Plain numpy arrays (`arrays`) and strings only, so it travels between processes cheaply: `clean`
    rows are plainly fine; `has_text` rows have a non-empty normalised text (and a signature that
    counts); `suspect_texts` are the texts of the clean rows that `row_flags` must look at.
    """

    ARRAYS = ("clean", "estimate", "digests", "has_text", "sigs", "lows", "bands")

    def __init__(self, clean: np.ndarray, estimate: np.ndarray, suspect_texts: list[tuple[int, str]],
                 digests: np.ndarray, has_text: np.ndarray, sigs: np.ndarray, lows: np.ndarray | None = None,
                 bands: np.ndarray | None = None) -> None:
        self.clean = clean
        self.estimate = estimate
        self.suspect_texts = suspect_texts
        self.digests = digests
        self.has_text = has_text
        self.sigs = sigs
        # (made in the worker, while the block's signatures are in the CPU's cache, rather than all at once
        # at the end or in the process that takes every block in)
        self.lows = _low_bits(sigs) if lows is None else lows
        self.bands = band_keys(sigs) if bands is None else bands

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.ARRAYS}


def _columns(block: bytes, newlines: np.ndarray, column: str) -> _Columns | None:
    """Parse a block and do every per-row computation on its columns; None: read it line by line."""
    try:
        return _compute(block, newlines, column)
    except Exception:  # noqa: BLE001 - an Arrow surprise costs speed, never the check: read line by line
        return None


def _compute(block: bytes, newlines: np.ndarray, column: str) -> _Columns | None:
    table = _parse(block, newlines)
    turns = chat_turns(table, column) if table is not None else None
    if turns is None:
        return None
    contents, offsets = turns.contents, turns.offsets
    co = string_offsets(contents)
    data = bytes_of(contents)[co[0]:co[-1]].tobytes()
    co = co - co[0]
    row_bytes = co[offsets]  # each row's contents lie in data[row_bytes[r]:row_bytes[r + 1]]
    ascii_only = data.isascii()
    if ascii_only:
        chars = np.diff(co)
    else:
        import pyarrow.compute as pc

        chars = ints(pc.utf8_length(contents))
    estimate = segment_sum(chars, offsets) // 4 + 5 * np.diff(offsets) + 1  # template.estimate_tokens
    suspects = _suspects(contents, data, row_bytes, offsets, ascii_only)
    suspect_texts = [(r, "\n".join(contents.slice(offsets[r], offsets[r + 1] - offsets[r]).to_pylist()))
                     for r in np.flatnonzero(suspects & turns.clean).tolist()]
    digests = row_digests(data + bytes(8), co, turns.roles, offsets)
    sig_lengths, sigs = _block_signatures(data, row_bytes)
    return _Columns(turns.clean, estimate, suspect_texts, digests, sig_lengths > 0, sigs)


class _Part(NamedTuple):
    """Rows for the duplicate finder: the arguments of `BatchDuplicateFinder.add`."""

    rows: np.ndarray
    digests: np.ndarray
    sig_rows: np.ndarray
    sigs: np.ndarray
    lows: np.ndarray
    bands: np.ndarray


class _Batch:
    def __init__(self) -> None:
        self.events: list[tuple[int, str, str]] = []
        self.too_long: Any = ()
        self.slow: list[tuple[int, Example, str]] = []
        self.fast: _Part | None = None


def _slow_part(slow: list[tuple[int, Example, str]]) -> _Part:
    """Digests and signatures of examples read one by one (the same functions as for Arrow rows)."""
    contents = [c.encode("utf-8", "surrogatepass") for _, ex, _ in slow for _, c in ex.turns]
    co = np.zeros(len(contents) + 1, dtype=np.int64)
    np.cumsum([len(c) for c in contents], out=co[1:])
    roles = np.array([ROLE_CODES[r] for _, ex, _ in slow for r, _ in ex.turns], dtype=np.uint8)
    offsets = np.zeros(len(slow) + 1, dtype=np.int64)
    np.cumsum([len(ex.turns) for _, ex, _ in slow], out=offsets[1:])
    rows = np.array([row for row, _, _ in slow], dtype=np.int64)
    digests = row_digests(b"".join(contents) + bytes(8), co, roles, offsets)
    norms = [(row, normalise(text)) for row, _, text in slow]
    norms = [(row, n) for row, n in norms if n]
    sig_rows = np.array([row for row, _ in norms], dtype=np.int64)
    sigs = signatures([n for _, n in norms]) if norms else np.zeros((0, 32), dtype=np.uint16)
    return _Part(rows, digests, sig_rows, sigs, _low_bits(sigs), band_keys(sigs))


# ---------------------------------------------------------------- Arrow

def _parse(block: bytes, newlines: np.ndarray) -> Any:
    """The block as an Arrow table with one row per line, or None when that cannot be sure."""
    lines = len(newlines) + (not block.endswith(b"\n"))
    # Every line must start an object: then no line is blank and none can be skipped silently.
    inner = newlines[:-1] if block.endswith(b"\n") else newlines
    if not block.startswith(b"{") or not (np.frombuffer(block, dtype=np.uint8)[inner + 1] == 123).all():
        return None
    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        return None  # Arrow ends rows at a lone CR too
    if not block.isascii():
        try:
            block.decode("utf-8")  # undecodable bytes are findings of their own rows
        except UnicodeDecodeError:
            return None
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        # One Arrow block for the whole of ours: the table comes in one chunk, which the column work
        # then reads as it is instead of copying chunks together.
        options = pj.ReadOptions(use_threads=False, block_size=max(len(block) + 1, 1 << 20))
        table = pj.read_json(pa.BufferReader(block), read_options=options)
    except Exception:  # noqa: BLE001 - any trouble means: read this block line by line
        return None
    return table if table.num_rows == lines else None


def _suspects(contents: Any, data: bytes, row_bytes: np.ndarray, offsets: np.ndarray, ascii_only: bool
              ) -> np.ndarray:
    """Rows that might hold control characters or personal data (a superset; `row_flags` decides)."""
    rows = len(offsets) - 1
    turn_hits = np.zeros(len(contents), dtype=bool)
    mapped = data.translate(_SCAN)
    if b"\0" in mapped or (not ascii_only and any(z in data for z in _ZERO_WIDTH)):
        turn_hits |= bools(pc().match_substring_regex(contents, _CONTROL_RE2))
    if b"@" in mapped:
        turn_hits |= bools(pc().match_substring(contents, "@"))
    hits = segment_sum(turn_hits.astype(np.int64), offsets) > 0
    if not ascii_only:
        phone = bools(pc().match_substring_regex(contents, _PHONE_RE2))
        return hits | (segment_sum(phone.astype(np.int64), offsets) > 0)
    if b"111111111" in mapped:
        for match in _PHONE_RUN.finditer(mapped):
            # A run may cross from one row into the next: every row it touches is a suspect.
            lo = int(np.searchsorted(row_bytes, match.start(), side="right")) - 1
            hi = int(np.searchsorted(row_bytes, match.end() - 1, side="right")) - 1
            hits[max(lo, 0):min(hi, rows - 1) + 1] = True
    return hits


def _block_signatures(data: bytes, row_bytes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(normalised length, near-copy signature) of every row, from the block's contents in one go."""
    # Valid UTF-8 never holds 0xFF: it marks where each row starts (and where the last one ends), survives
    # normalisation, and then becomes the zero bytes `signatures_of_buffer` wants around each text.
    marked = np.insert(np.frombuffer(data, dtype=np.uint8), row_bytes, 0xFF).tobytes()
    norm = marked.translate(_TABLE, _DELETE)
    lengths = np.diff(np.flatnonzero(np.frombuffer(norm, dtype=np.uint8) == 0xFF)) - 1
    return lengths, signatures_of_buffer(norm.replace(b"\xff", _SEP), lengths)


__all__ = ["BLOCK_BYTES", "run", "usable"]
