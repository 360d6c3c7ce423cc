"""A block of chat rows as Arrow columns: turns, role codes, and which rows convert plainly.

The helpers read Arrow buffers directly into numpy (``Array.to_numpy`` would import pandas, and
``pyarrow.compute`` costs a third of a second to import, so it is only imported when a block needs it).
`chat_turns` applies the rules of ``detect._turns_from_list`` and ``detect.turn_order_problem`` to whole
columns; a row it does not call clean is converted again one by one by the caller.

Example:
    >>> import pyarrow as pa, pyarrow.json as pj
    >>> row = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}'
    >>> turns = chat_turns(pj.read_json(pa.BufferReader(row + b"\\n" + row.replace(b"Yo", b" "))), "messages")
    >>> turns.clean.tolist(), turns.roles.tolist()
    ([True, False], [1, 2, 1, 2])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from peftstudio.data.detect import _ROLE_NAMES, _TURN_CONTENT_KEYS, _TURN_ROLE_KEYS, SYNONYMS, _norm

ROLE_CODES = {"system": 0, "user": 1, "assistant": 2}
BAD_ROLE = 255
#: Column names that would make a row's chat column ambiguous.
CHAT_NAMES = frozenset(SYNONYMS["messages"]) | frozenset(SYNONYMS["conversations"])
MAX_TYPE_DEPTH = 32  # deeper values might exceed Python's recursion limit in json.loads


class Turns:
    """A block's rows as turns: contents (an Arrow string array), role codes, and per-row turn offsets."""

    def __init__(self, contents: Any, roles: np.ndarray, offsets: np.ndarray, clean: np.ndarray) -> None:
        self.contents = contents
        self.roles = roles
        self.offsets = offsets
        self.clean = clean  # rows that convert to an example with no problem


def too_deep(t: Any, limit: int = MAX_TYPE_DEPTH) -> bool:
    """Whether values of type `t` nest deeper than `limit` (walked without recursion: it may be very deep)."""
    import pyarrow as pa

    stack = [(t, 0)]
    while stack:
        t, depth = stack.pop()
        if depth > limit:
            return True
        if pa.types.is_struct(t):
            stack.extend((t.field(i).type, depth + 1) for i in range(t.num_fields))
        elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            stack.append((t.value_type, depth + 1))
    return False


def chat_turns(table: Any, column: str) -> Turns | None:
    """The chat column's turns, or None when the block's schema leaves a row's meaning open."""
    import pyarrow as pa

    schema = table.schema
    if column not in schema.names or too_deep(pa.struct(list(schema))):
        return None
    if any(name != column and _norm(name) in CHAT_NAMES for name in schema.names):
        return None  # the row classifier might pick that column instead
    messages = table.column(column).combine_chunks()
    if not (pa.types.is_list(messages.type) and pa.types.is_struct(messages.type.value_type)):
        return None
    item = messages.type.value_type
    names = [item.field(i).name for i in range(item.num_fields)]
    role_key = next((k for k in _TURN_ROLE_KEYS if k in names), None)
    content_key = next((k for k in _TURN_CONTENT_KEYS if k in names), None)
    if role_key is None or content_key is None:
        return None
    if not all(pa.types.is_string(item.field(k).type) for k in (role_key, content_key)):
        return None
    offsets = ints(messages.offsets)
    turns = messages.values.slice(offsets[0], offsets[-1] - offsets[0])
    offsets -= offsets[0]
    fields = dict(zip(names, turns.flatten(), strict=False))
    roles, contents = fields[role_key], fields[content_key]
    bad = ~valid(roles) | ~valid(contents)
    codes = role_codes(roles)
    bad |= codes == BAD_ROLE
    bad |= blank(contents)
    nturns = np.diff(offsets)
    clean = valid(messages) & (nturns > 0)
    clean &= segment_sum(bad.astype(np.int64), offsets) == 0
    clean &= order_ok(codes, offsets)
    return Turns(contents, codes, offsets, clean)


# (Array.to_numpy would import pandas, a second's start-up: read the buffers directly.)
def bools(array: Any) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls as False."""
    n, offset = len(array), array.offset
    validity, values = array.buffers()[:2]
    if values is None or not n:
        return np.zeros(n, dtype=bool)
    out = np.unpackbits(np.frombuffer(values, dtype=np.uint8), bitorder="little")[offset:offset + n].astype(bool)
    if validity is not None:
        out &= np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[offset:offset + n] == 1
    return out


def valid(array: Any) -> np.ndarray:
    """Which entries of an Arrow array are not null (read from its validity bitmap)."""
    n, offset = len(array), array.offset
    validity = array.buffers()[0]
    if not array.null_count or validity is None:
        return np.ones(n, dtype=bool)
    return np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[offset:offset + n] == 1


def role_codes(roles: Any) -> np.ndarray:
    """Each turn's role code, deciding each distinct role name once as detect._turns_from_list does."""
    n = len(roles)
    ro = string_offsets(roles)
    lengths = np.diff(ro)
    if not n:
        return np.zeros(0, dtype=np.uint8)
    if lengths.max() <= 16:
        # Names of up to 16 bytes are told apart exactly by (first 8 bytes, next 8 bytes, length).
        raw = bytes(bytes_of(roles)) + bytes(16)
        windows = np.ndarray((len(raw) - 7,), dtype="<u8", buffer=raw, strides=(1,))
        ones = np.uint64(0xFFFFFFFFFFFFFFFF)
        head_n, tail_n = np.minimum(lengths, 8), np.clip(lengths - 8, 0, 8)
        head = np.where(head_n > 0, windows[ro[:-1]] & (ones >> (8 * (8 - np.maximum(head_n, 1))).astype(np.uint64)), 0)
        tail = np.where(tail_n > 0, windows[ro[:-1] + 8] & (ones >> (8 * (8 - np.maximum(tail_n, 1))).astype(np.uint64)),
                        0)
        key = head ^ (tail * np.uint64(0x9E3779B97F4A7C15)) ^ (lengths.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F))
        first, which = _distinct(key)
        if (head == head[first][which]).all() and (tail == tail[first][which]).all() and (
                lengths == lengths[first][which]).all():
            codes = np.array([role_code(roles[int(i)].as_py()) for i in first], dtype=np.uint8)
            return codes[which]  # type: ignore[no-any-return]
    import pyarrow.compute as pc

    names_seen = pc.unique(roles)
    codes = np.array([role_code(v) for v in names_seen.to_pylist()] or [BAD_ROLE], dtype=np.uint8)
    found = pc.index_in(roles, value_set=names_seen)
    return codes[np.where(valid(found), ints(found), 0)]  # type: ignore[no-any-return]


def _distinct(key: np.ndarray, few: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(index of each distinct value's first occurrence, which distinct value each entry is) of `key`.

    A file has a handful of role names, so up to `few` distinct values are picked out one pass each
    (cheaper than a sort); beyond that, sorted out.
    """
    n = len(key)
    which = np.zeros(n, dtype=np.intp)
    seen = np.zeros(n, dtype=bool)
    firsts: list[int] = []
    i = 0
    while len(firsts) < few:
        same = key == key[i]
        which[same] = len(firsts)
        seen |= same
        firsts.append(i)
        i = int(np.argmin(seen))  # the first entry not seen yet: its value's first occurrence
        if seen[i]:
            return np.array(firsts, dtype=np.intp), which
    ordered = np.sort(key)
    distinct = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
    which = np.searchsorted(distinct, key)
    first = np.full(len(distinct), n, dtype=np.intp)
    np.minimum.at(first, which, np.arange(n))
    return first, which


def ints(array: Any) -> np.ndarray:
    """An integer Arrow array without nulls as int64 numpy."""
    dtype = np.dtype(f"int{array.type.bit_width}")  # offsets, indexes and lengths: signed
    values = array.buffers()[1]
    if values is None or not len(array):
        return np.zeros(len(array), dtype=np.int64)
    return np.frombuffer(values, dtype=dtype)[array.offset:array.offset + len(array)].astype(np.int64)


def role_code(raw: Any) -> int:
    if not isinstance(raw, str):
        return BAD_ROLE
    role = _ROLE_NAMES.get(raw) or _ROLE_NAMES.get(_norm(raw))
    return ROLE_CODES[role] if role is not None else BAD_ROLE


def string_offsets(strings: Any) -> np.ndarray:
    dtype = np.int64 if str(strings.type) == "large_string" else np.int32
    raw = np.frombuffer(strings.buffers()[1], dtype=dtype)
    return raw[strings.offset:strings.offset + len(strings) + 1].astype(np.int64)


def bytes_of(strings: Any) -> memoryview:
    buffer = strings.buffers()[2]
    return memoryview(buffer) if buffer is not None else memoryview(b"")


def blank(contents: Any) -> np.ndarray:
    """Contents that are empty or white space only (as str.isspace sees it)."""
    co = string_offsets(contents)
    lengths = np.diff(co)
    data = np.frombuffer(bytes_of(contents), dtype=np.uint8)
    if not len(data):
        data = np.zeros(1, dtype=np.uint8)
    first = data[np.minimum(co[:-1], len(data) - 1)]
    # A content starting with a visible ASCII character is certainly not blank; look at the others in Python.
    maybe = valid(contents) & ((lengths == 0) | (first < 0x21) | (first > 0x7E))
    blank = np.zeros(len(contents), dtype=bool)
    where = np.flatnonzero(maybe)
    if len(where):
        buffer = bytes_of(contents)
        texts = (bytes(buffer[a:b]).decode("utf-8") for a, b in zip(co[where].tolist(), co[where + 1].tolist(), strict=True))
        blank[where] = [not text or text.isspace() for text in texts]
    return blank


def order_ok(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Rows whose roles go [system] user assistant user assistant ... (detect.turn_order_problem's rule)."""
    nturns = np.diff(offsets)
    if not len(codes):
        return np.zeros(len(nturns), dtype=bool)
    first = codes[np.minimum(offsets[:-1], len(codes) - 1)]
    system = (nturns > 0) & (first == ROLE_CODES["system"])
    place = np.arange(len(codes)) - np.repeat(offsets[:-1], nturns) - np.repeat(system, nturns)
    expected = np.where(place % 2 == 0, ROLE_CODES["user"], ROLE_CODES["assistant"])
    wrong = (codes != expected) & (place >= 0)
    body = nturns - system
    return (segment_sum(wrong.astype(np.int64), offsets) == 0) & (body >= 2) & (body % 2 == 0)


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    cumulative = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=cumulative[1:])
    return cumulative[offsets[1:]] - cumulative[offsets[:-1]]  # type: ignore[no-any-return]


def pc() -> Any:
    import pyarrow.compute as pc  # (a third of a second to import: only when a block needs it)

    return pc


__all__ = [
    "BAD_ROLE", "CHAT_NAMES", "ROLE_CODES", "Turns", "blank", "bools", "bytes_of", "chat_turns", "ints",
    "order_ok", "pc", "role_code", "role_codes", "segment_sum", "string_offsets", "too_deep", "valid",
]
