"""Reading examples from CSV, TSV, JSON, JSONL, plain text and Parquet files, streaming.

`open_source(path)` looks at the file's name and first bytes and returns a
`Source` (format, encoding, CSV dialect, text layout); `iter_rows(source)`
yields one `RawRow` per example without loading line-based files whole. A row
that cannot be read (broken JSON, a ragged CSV row, undecodable bytes) is
yielded with its `problem` code instead of raising, numbered as an editor shows
it: the 1-based line where it starts (the row number for Parquet).

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.jsonl"
    >>> _ = p.write_text('{"text": "a"}\\n{broken\\n')
    >>> [(r.row, r.problem) for r in iter_rows(open_source(p))]
    [(1, None), (2, 'malformed_json')]
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from attrs import frozen

from peftstudio.data.encoding import HEAD_BYTES, Encoding, detect_encoding

FORMATS = ("jsonl", "json", "csv", "tsv", "txt", "parquet")

#: A line longer than this is not read (a 1 GB single line would need 1 GB of memory); it becomes a finding.
MAX_LINE_BYTES = 32 * 1024 * 1024

_EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".txt": "txt", ".text": "txt", ".md": "txt", ".parquet": "parquet", ".pq": "parquet",
}
_WS = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile("[\udc80-\udcff]")


class RawRow(NamedTuple):
    """One example as read: `value` is a dict of columns or a text; `problem` a finding code when unreadable.

    (A tuple rather than a record: millions are made while streaming a large file.)
    """

    row: int
    value: Any
    problem: str | None = None
    detail: str = ""


@frozen
class Source:
    """A data file and how to read it."""

    path: Path
    format: str
    encoding: Encoding
    size: int
    delimiter: str = ","
    text_layout: str = "lines"  # plain text: "lines" (one example per line) or "blocks" (blank-line separated)
    empty: bool = False


def _format_from_content(head_text: str, raw: bytes) -> str:
    if raw.startswith(b"PAR1"):
        return "parquet"
    stripped = head_text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first, _, rest = stripped.partition("\n")
        try:
            json.loads(first)
        except ValueError:
            return "json"
        return "jsonl" if rest.strip() or first.strip().endswith("}") else "json"
    lines = [line for line in head_text.splitlines()[:20] if line.strip()]
    if len(lines) >= 2:
        for delim, name in (("\t", "tsv"), (",", "csv"), (";", "csv")):
            counts = {line.count(delim) for line in lines[:10]}
            if len(counts) == 1 and counts != {0}:
                return name
    return "txt"


def _decode_head(raw: bytes, enc: Encoding) -> str:
    return raw[enc.bom:].decode(enc.codec, errors="replace")


def open_source(path: str | Path) -> Source:
    """Look at `path` and decide its format and encoding (never raises for odd content).

    Raises `FileNotFoundError`/`PermissionError` for a file that cannot be opened at all.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except OSError as exc:  # a loop of links, a device, a read error: a plain message, not "something went wrong"
        from peftstudio.errors import as_plain

        raise as_plain(exc if exc.filename else OSError(exc.errno, exc.strerror, str(p))) from exc
    enc = detect_encoding(raw, complete=len(raw) >= size)
    head = _decode_head(raw, enc)
    fmt = _EXTENSIONS.get(p.suffix.lower())
    if raw.startswith(b"PAR1"):
        fmt = "parquet"
    elif fmt is None or fmt == "parquet":
        fmt = _format_from_content(head, raw)
    elif fmt == "json" and _format_from_content(head, raw) == "jsonl":
        fmt = "jsonl"  # a .json file that holds one object per line
    delimiter = "\t" if fmt == "tsv" else ","
    if fmt in ("csv", "tsv"):
        delimiter = _sniff_delimiter(head, delimiter)
    layout = _text_layout(head) if fmt == "txt" else "lines"
    empty = size == 0 or (fmt != "parquet" and not head.strip() and size <= len(raw))
    return Source(p, fmt, enc, size, delimiter, layout, empty)


def _sniff_delimiter(head: str, default: str) -> str:
    sample = "\n".join(head.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def _text_layout(head: str) -> str:
    # Blocks when the text has blank lines between multi-line paragraphs; otherwise one example per line.
    lines = head.splitlines()[:2000]
    has_blank = any(not line.strip() for line in lines)
    has_adjacent = any(a.strip() and b.strip() for a, b in itertools.pairwise(lines))
    return "blocks" if has_blank and has_adjacent else "lines"


# ---------------------------------------------------------------- lines

def iter_lines(source: Source, fh: BinaryIO) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text or None, problem code) for each physical line, streaming.

    UTF-8 files are read as bytes and decoded line by line, so one bad byte spoils
    one line, not the file; other encodings decode with replacement characters.
    """
    if source.encoding.codec == "utf-8":
        yield from _iter_utf8_lines(fh)
        return
    text = io.TextIOWrapper(fh, encoding=source.encoding.codec, errors="replace", newline=None)
    limit = MAX_LINE_BYTES // 2
    lineno = 0
    while True:
        line = text.readline(limit)
        if not line:
            return
        lineno += 1
        if len(line) >= limit and not line.endswith("\n"):
            while True:
                rest = text.readline(limit)
                if not rest or rest.endswith("\n"):
                    break
            yield lineno, None, "line_too_long"
            continue
        yield lineno, line.rstrip("\r\n"), None


def _iter_utf8_lines(fh: BinaryIO) -> Iterator[tuple[int, str | None, str | None]]:
    readline = fh.readline
    lineno = 0
    while True:
        line = readline(MAX_LINE_BYTES)
        if not line:
            return
        lineno += 1
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the over-long line without holding it
                rest = readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None, "line_too_long"
            continue
        try:
            yield lineno, line.decode("utf-8").rstrip("\r\n"), None
        except UnicodeDecodeError:
            yield lineno, None, "undecodable_bytes"


# ---------------------------------------------------------------- per format

def _iter_jsonl(source: Source, fh: BinaryIO) -> Iterator[RawRow]:
    for lineno, text, problem in iter_lines(source, fh):
        if problem is not None:
            yield RawRow(lineno, None, problem)
        elif text and not text.isspace():
            yield _json_row(lineno, text)


def _json_row(lineno: int, text: str | bytes) -> RawRow:
    try:
        value = json.loads(text)
    except ValueError as exc:
        return RawRow(lineno, None, "malformed_json", _json_detail(exc))
    except RecursionError:
        return RawRow(lineno, None, "malformed_json", "it is nested too deeply")
    if isinstance(value, (dict, str)):
        return RawRow(lineno, value)
    return RawRow(lineno, None, "wrong_row_type", f"it holds {_kind(value)}, not an object")


def _line_blocks(fh: BinaryIO) -> Iterator[tuple[int, list[bytes | None], bool]]:
    """(number of the first line, the lines without their newline, whether the last one had one) per block.

    A line of `MAX_LINE_BYTES` or more comes as None, and is never held whole.
    """
    first, carry, skipping = 1, b"", False
    while block := fh.read(BLOCK_BYTES):
        if skipping:  # the rest of a line too long to read
            end = block.find(b"\n")
            if end < 0:
                continue
            block, skipping = block[end + 1:], False
        lines: list[bytes | None] = (carry + block).split(b"\n")  # type: ignore[assignment]
        carry = lines.pop()  # type: ignore[assignment]
        if len(carry) >= MAX_LINE_BYTES:
            lines.append(None)
            carry, skipping = b"", True
        if len(block) + len(carry) >= MAX_LINE_BYTES:
            lines = [None if line is None or len(line) >= MAX_LINE_BYTES else line for line in lines]
        if lines:
            yield first, lines, True
            first += len(lines)
    if carry and not skipping:
        yield first, [carry], False


_new = tuple.__new__  # (a NamedTuple built without its own __new__, which is Python code: one per row)
#: Bytes read at a time from a UTF-8 JSONL file: its lines are parsed in one call (see `_jsonl_block`).
BLOCK_BYTES = 1 << 20
# Between two lines parsed as one JSON array: a string no line can foresee, so the array's every other
# element is this string exactly when each line holds exactly one JSON value.
_NONCE = secrets.token_hex(16)
_BETWEEN = f',"{_NONCE}",'


def _jsonl_block(first: int, lines: list[bytes | None], ended: bool) -> list[RawRow]:
    """The rows of a block of lines (numbered from `first`); `ended`: its last line had a newline.

    The block is parsed as one JSON array (much faster than a parse per line); a block with a line that
    is not one plain JSON value, or not UTF-8, is parsed line by line, giving each line its own finding.
    """
    keep = [i for i, line in enumerate(lines) if line is None or (line and not line.isspace())]
    if not keep:
        return []
    try:
        text = b"\n".join([lines[i] for i in keep]).decode("utf-8")  # type: ignore[misc]
        values = json.loads("[" + text.replace("\n", _BETWEEN) + "]")
        whole = len(values) == 2 * len(keep) - 1 and values[1::2].count(_NONCE) == len(keep) - 1
    except (TypeError, ValueError, RecursionError):  # (TypeError: a None line; UnicodeDecodeError is a ValueError)
        whole = False
    if whole:
        return [_new(RawRow, (first + i, value, None, "")) if value.__class__ is dict or isinstance(value, (dict, str)) else
                RawRow(first + i, None, "wrong_row_type", f"it holds {_kind(value)}, not an object")
                for i, value in zip(keep, values[::2], strict=True)]
    last = len(lines) - 1
    rows = []
    for i in keep:
        line = lines[i]
        if line is None:
            rows.append(RawRow(first + i, None, "line_too_long"))
            continue
        row = jsonl_row(first + i, line + b"\n" if ended or i < last else line)
        if row is not None:
            rows.append(row)
    return rows


def jsonl_row(lineno: int, line: bytes) -> RawRow | None:
    """The row of one line of a UTF-8 JSONL file (with its newline), or None for a blank line."""
    if line.isspace() or not line:
        return None
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return RawRow(lineno, None, "undecodable_bytes")
    except (ValueError, RecursionError):
        return _json_row(lineno, line)
    if value.__class__ is dict or isinstance(value, (dict, str)):
        return RawRow(lineno, value)
    return RawRow(lineno, None, "wrong_row_type", f"it holds {_kind(value)}, not an object")


def _json_detail(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return str(exc)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return "a number"
    return "text"


def _read_text(source: Source, fh: BinaryIO) -> str:
    return fh.read().decode(source.encoding.codec, errors="replace")


def _skip_ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _iter_json_array(text: str, pos: int) -> Iterator[RawRow]:
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    line, last = 1, 0
    while True:
        line += text.count("\n", last, pos)
        last = pos
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield RawRow(exc.lineno, None, "malformed_json", _json_detail(exc))
            return
        except RecursionError:
            yield RawRow(line, None, "malformed_json", "it is nested too deeply")
            return
        if isinstance(value, (dict, str)):
            yield RawRow(line, value)
        else:
            yield RawRow(line, None, "wrong_row_type", f"it holds {_kind(value)}, not an object")
        pos = _skip_ws(text, end)
        if pos >= len(text):
            yield RawRow(_line_at(text, pos), None, "malformed_json", "the file ends before the closing ]")
            return
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
            continue
        if text[pos] == "]":
            return
        yield RawRow(_line_at(text, pos), None, "malformed_json", "expected a comma or ] between examples")
        return


_LIST_KEYS = ("data", "examples", "rows", "records", "train", "items", "samples", "dataset")
_EXAMPLE_KEYS = ("messages", "conversations", "instruction", "prompt", "question", "text")


def _list_key(obj: dict[str, Any]) -> str | None:
    """The key of the list of examples in an object such as ``{"data": [...]}``; None if it is one example."""
    if any(k.lower() in _EXAMPLE_KEYS for k in obj):
        return None
    lists = [k for k, v in obj.items() if isinstance(v, list) and v and all(isinstance(x, (dict, str)) for x in v[:20])]
    if not lists:
        return None
    named = [k for k in lists if k.lower() in _LIST_KEYS]
    return (named or sorted(lists, key=lambda k: -len(obj[k])))[0]


def _iter_json(source: Source, fh: BinaryIO) -> Iterator[RawRow]:
    text = _read_text(source, fh)
    pos = _skip_ws(text, 0)
    if pos >= len(text):
        return
    if text[pos] == "[":
        yield from _iter_json_array(text, pos)
        return
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        yield RawRow(exc.lineno, None, "malformed_json", _json_detail(exc))
        return
    except (ValueError, RecursionError) as exc:
        yield RawRow(1, None, "malformed_json", str(exc) or "it is nested too deeply")
        return
    if not isinstance(whole, dict):
        yield RawRow(_line_at(text, pos), None, "wrong_row_type", f"the file holds {_kind(whole)}, not examples")
        return
    key = _list_key(whole)
    if key is None:
        yield RawRow(_line_at(text, pos), whole)
        return
    yield from _iter_object_list(text, pos, key)


def _iter_object_list(text: str, pos: int, key: str) -> Iterator[RawRow]:
    # The text is valid JSON (checked by the caller): walk the top-level object to the chosen list.
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, pos + 1)
    while pos < len(text) and text[pos] != "}":
        name, pos = decoder.raw_decode(text, pos)
        pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # past the colon
        if name == key and text[pos] == "[":
            yield from _iter_json_array(text, pos)
            return
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip_ws(text, pos)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)


def _iter_csv(source: Source, fh: BinaryIO) -> Iterator[RawRow]:
    # Fields may be huge (a whole document in one cell); the default limit of 128 KB would raise.
    csv.field_size_limit(MAX_LINE_BYTES)
    errors = "surrogateescape" if source.encoding.codec == "utf-8" else "replace"
    text = io.TextIOWrapper(fh, encoding=source.encoding.codec, errors=errors, newline="")
    reader = csv.reader(text, delimiter=source.delimiter)
    header: list[str] | None = None
    last_line = 0
    while True:
        start = last_line + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield RawRow(start, None, "malformed_row", str(exc))
            continue
        last_line = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip() and header is not None):
            continue
        if header is None:
            header = _header(fields)
            if any(_SURROGATE.search(f) for f in fields):
                yield RawRow(start, None, "undecodable_bytes", "in the header")
            continue
        if any(_SURROGATE.search(f) for f in fields):
            yield RawRow(start, None, "undecodable_bytes")
            continue
        if len(fields) != len(header):
            yield RawRow(start, None, "wrong_column_count",
                         f"it has {len(fields)} values but the header has {len(header)} columns")
            continue
        yield RawRow(start, dict(zip(header, fields, strict=True)))


def header_columns(source: Source) -> list[str]:
    """The column names in the first line of a CSV or TSV file (empty for other formats).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.csv"
        >>> _ = p.write_text("question,answer" + chr(10))
        >>> header_columns(open_source(p))
        ['question', 'answer']
    """
    if source.format not in ("csv", "tsv"):
        return []
    with open(source.path, "rb") as raw:
        raw.seek(source.encoding.bom)
        fh = io.TextIOWrapper(raw, encoding=source.encoding.codec, errors="replace", newline="")
        first = next((line for line in fh if line.strip()), "")
    return [c for c in _header(next(csv.reader([first], delimiter=source.delimiter), [])) if c]


def _header(fields: list[str]) -> list[str]:
    names: list[str] = []
    for i, name in enumerate(fields, 1):
        name = name.strip().lstrip("\ufeff") or f"column_{i}"
        while name in names:
            name += "_"
        names.append(name)
    return names


def _iter_txt(source: Source, fh: BinaryIO) -> Iterator[RawRow]:
    if source.text_layout == "lines":
        for lineno, text, problem in iter_lines(source, fh):
            if problem is not None:
                yield RawRow(lineno, None, problem)
            elif text and not text.isspace():
                yield RawRow(lineno, text)
        return
    block: list[str] = []
    first = 0
    for lineno, text, problem in iter_lines(source, fh):
        if problem is not None:
            yield RawRow(lineno, None, problem)
            continue
        if text is None or not text.strip():
            if block:
                yield RawRow(first, "\n".join(block))
                block = []
            continue
        if not block:
            first = lineno
        block.append(text)
    if block:
        yield RawRow(first, "\n".join(block))


def _iter_parquet(source: Source, fh: BinaryIO) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(fh)
        batches = pf.iter_batches(batch_size=2048)
        row = 0
        for batch in batches:
            for value in batch.to_pylist():
                row += 1
                yield RawRow(row, value)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for damaged files
        yield RawRow(1, None, "malformed_file", f"it is not a readable Parquet file ({type(exc).__name__})")


_READERS = {
    "jsonl": _iter_jsonl, "json": _iter_json, "csv": _iter_csv, "tsv": _iter_csv,
    "txt": _iter_txt, "parquet": _iter_parquet,
}


def iter_rows(source: Source) -> Iterator[RawRow]:
    """Every example of `source`, in file order (see the module docstring)."""
    for rows, _done in iter_row_batches(source):
        yield from rows


def iter_row_batches(source: Source, size: int = 4096) -> Iterator[tuple[list[RawRow], int]]:
    """`iter_rows` a list at a time (of about `size` rows), each with the bytes of the file read by then."""
    if source.empty or (source.encoding.binary and source.format != "parquet"):
        return
    with open(source.path, "rb", buffering=1 << 20) as fh:
        fh.read(source.encoding.bom)
        if source.format == "jsonl" and source.encoding.codec == "utf-8":
            for first, lines, ended in _line_blocks(fh):
                yield _jsonl_block(first, lines, ended), fh.tell()
            return
        rows = _READERS[source.format](source, fh)
        while batch := list(itertools.islice(rows, size)):
            yield batch, source.size if fh.closed else fh.tell()  # (a text wrapper closes it when done)
