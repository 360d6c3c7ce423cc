"""Automatic fixes: write a cleaned copy of a data file and a report beside it.

`apply_fixes` runs the check, then streams the file again and writes the rows
that survive the chosen fixes to a new file (format from its extension; always
UTF-8), atomically. The original file is only ever read.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.jsonl").write_text('{"prompt": "Hi", "completion": "Yo"}\\n{bad\\n')
    >>> result = apply_fixes(d / "in.jsonl", ["drop_malformed"], d / "clean.jsonl")
    >>> result.rows_in, result.rows_out, (d / "clean.jsonl").read_text()
    (2, 1, '{"prompt": "Hi", "completion": "Yo"}\\n')
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from peftstudio.data import template
from peftstudio.data.check import _CONTROL, Analysis, analyse, planned_context
from peftstudio.data.detect import STRUCTURES, to_example
from peftstudio.data.findings import CODES, FIXES, Structure
from peftstudio.data.readers import _EXTENSIONS, iter_rows
from peftstudio.errors import make
from peftstudio.store.files import atomic_open

_DROPS = ("drop_malformed", "drop_empty", "remove_duplicates", "remove_near_duplicates", "drop_too_long",
          "drop_other_structures", "drop_bad_turns", "drop_validation_overlap")


@frozen
class FixResult:
    """What `apply_fixes` wrote: the cleaned file, its report, and how many rows each fix touched."""

    out_path: str
    report_path: str
    rows_in: int
    rows_out: int
    applied: tuple[str, ...]
    dropped: dict[str, int]
    changed: dict[str, int]


def resolve_fix_ids(names: Iterable[str]) -> tuple[str, ...]:
    """Fix ids from fix ids or finding codes (a code stands for its fix); unknown names are a plain error.

    Example:
        >>> resolve_fix_ids(["exact_duplicate", "drop_empty"])
        ('remove_duplicates', 'drop_empty')
    """
    out: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        fix_id = name if name in FIXES else (CODES[name].fix_id if name in CODES else None)
        if fix_id is None:
            known = ", ".join(sorted(FIXES))
            raise make("config_invalid", problems=f"{name!r} is not a fix PEFT Studio can apply. Fixes: {known}.")
        if fix_id not in out:
            out.append(fix_id)
    return tuple(out)


def _content_slots(value: Any, structure: Structure) -> list[tuple[Any, Any]]:
    """(container, key) pairs holding the texts an example is made of."""
    if isinstance(value, str):
        return []
    if structure.name in ("chat", "sharegpt"):
        turns = value.get(structure.columns.get("messages") or structure.columns.get("conversations", ""), [])
        return [(t, k) for t in turns if isinstance(t, dict) for k in ("content", "value") if isinstance(t.get(k), str)]
    roles = [*STRUCTURES.get(structure.name, ((), ()))[0], *STRUCTURES.get(structure.name, ((), ()))[1]]
    return [(value, structure.columns[r]) for r in roles
            if r in structure.columns and r != "label" and isinstance(value.get(structure.columns[r]), str)]


def _strip_controls(value: Any) -> Any:
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, dict):
        return {k: _strip_controls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_controls(v) for v in value]
    return value


def _length(value: Any, structure: Structure, tokenizer: Any) -> int:
    ex = to_example(value, structure).example
    if ex is None:
        return 0
    if tokenizer is None:
        return template.estimate_tokens(ex)
    return template.count_tokens([template.render(ex, tokenizer)[0]], tokenizer)[0]


def _truncate(value: Any, structure: Structure, limit: int, tokenizer: Any) -> Any:
    if isinstance(value, str):
        value = {"text": value}
        structure = Structure("text", {"text": "text"}, 1.0)
    value = json.loads(json.dumps(value))  # a private copy to cut
    for _ in range(20):
        n = _length(value, structure, tokenizer)
        slots = _content_slots(value, structure)
        if n <= limit or not slots:
            break
        holder, key = max(slots, key=lambda s: len(s[0][s[1]]))
        text = holder[key]
        holder[key] = text[: max(1, int(len(text) * max(0.5, limit / n) * 0.97))]
    return value


def _mapped(value: Any, structure: Structure) -> Any:
    if not isinstance(value, dict):
        return {"text": value}
    renames = {col: role for role, col in structure.columns.items()}
    return {renames.get(k, k): v for k, v in value.items()}


def _write(rows: Iterable[Any], out: Path, fmt: str) -> int:
    count = 0
    if fmt in ("jsonl", "json"):
        with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
            fh.write("[\n" if fmt == "json" else "")
            for value in rows:
                if fmt == "json" and count:
                    fh.write(",\n")
                fh.write(json.dumps(value, ensure_ascii=False) + ("\n" if fmt == "jsonl" else ""))
                count += 1
            fh.write("\n]\n" if fmt == "json" else "")
        return count
    buffered = [v if isinstance(v, dict) else {"text": v} for v in rows]
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        from peftstudio.store.files import atomic_write_bytes

        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(buffered), sink)
        atomic_write_bytes(out, sink.getvalue())
        return len(buffered)
    if fmt == "txt":
        texts = []
        for v in buffered:
            strings = [x for x in v.values() if isinstance(x, str)]
            if len(strings) != 1:
                raise make("config_invalid", problems="Only text-only data can be written as a .txt file; "
                           "choose .jsonl for the cleaned file.")
            texts.append(strings[0].replace("\n\n", "\n"))
        with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
            fh.write("\n\n".join(texts) + ("\n" if texts else ""))
        return len(texts)
    columns: dict[str, None] = {}
    for v in buffered:
        columns.update(dict.fromkeys(v))
    with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t" if fmt == "tsv" else ",")
        writer.writerow(list(columns))
        for v in buffered:
            writer.writerow([_cell(v.get(c)) for c in columns])
    return len(buffered)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def apply_fixes(path: str | Path, fix_ids: Iterable[str], out_path: str | Path, *,
                mapping: Mapping[str, str] | None = None, structure: str | None = None, tokenizer: Any = None,
                max_tokens: int | None = None, validation_path: str | Path | None = None,
                profile: str | None = None) -> FixResult:
    """Write a cleaned copy of `path` to `out_path` with the chosen fixes (ids or finding codes), and a
    report beside it (``<out_path>.report.json``). The original file is never changed.

    The other arguments must match the ones the check was run with, so the same rows are found.
    """
    src, out = Path(path), Path(out_path)
    chosen = resolve_fix_ids(fix_ids)
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise make("config_invalid", problems="The cleaned file must not replace the original; choose a new name.")
    fmt = _EXTENSIONS.get(out.suffix.lower(), "jsonl")
    analysis = analyse(src, mapping=mapping, structure=structure, tokenizer=tokenizer, max_tokens=max_tokens,
                       validation_path=validation_path, profile=profile)
    limit = planned_context(profile, max_tokens)
    dropping = {f: analysis.rows_by_fix.get(f, frozenset()) for f in chosen if f in _DROPS}
    truncating = analysis.rows_by_fix.get("drop_too_long", frozenset()) if "truncate_too_long" in chosen else ()
    dropped = {f: 0 for f in dropping}
    changing = ("strip_control_chars", "truncate_too_long", "map_columns")
    changed: dict[str, int] = {f: 0 for f in changing if f in chosen}
    counts = {"in": 0}

    def rows() -> Iterator[Any]:
        for raw in iter_rows(analysis.source):
            counts["in"] += 1
            hit = next((f for f, rs in dropping.items() if raw.row in rs), None)
            if hit is not None:
                dropped[hit] += 1
                continue
            if raw.problem is not None:
                continue  # unreadable rows cannot be written; only drop_malformed says so in the counts
            value = raw.value
            if "strip_control_chars" in chosen:
                stripped = _strip_controls(value)
                if stripped != value:
                    value = stripped
                    changed["strip_control_chars"] += 1
            if raw.row in truncating:
                value = _truncate(value, analysis.structure, limit, tokenizer)
                changed["truncate_too_long"] += 1
            if "map_columns" in chosen:
                value = _mapped(value, analysis.structure)
                changed["map_columns"] += 1
            yield value

    written = _write(rows(), out, fmt)
    report_path = out.with_name(out.name + ".report.json")
    result = FixResult(str(out), str(report_path), counts["in"], written, chosen, dropped, changed)
    _write_report(report_path, src, analysis, result)
    return result


def _write_report(path: Path, src: Path, analysis: Analysis, result: FixResult) -> None:
    from peftstudio.data.build import file_sha256
    from peftstudio.records.convert import to_dict
    from peftstudio.store.files import atomic_write_text

    doc = {
        "original": str(src), "original_sha256": file_sha256(src), "cleaned": result.out_path,
        "fixes": {f: FIXES[f] for f in result.applied}, "rows_in": result.rows_in, "rows_out": result.rows_out,
        "dropped": result.dropped, "changed": result.changed, "check": to_dict(analysis.report),
    }
    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


__all__ = ["FixResult", "apply_fixes", "resolve_fix_ids"]
