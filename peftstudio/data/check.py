"""The data check: read a file once, streaming, and report what is wrong with it in plain words.

`check_file` never raises for odd content (an empty, binary or broken file is a
finding); only a path that cannot be opened raises (as a plain error).
`analyse` is the same pass keeping every affected row (not just the first 50),
which `apply_fixes` uses.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "qa.jsonl"
    >>> _ = p.write_text('{"prompt": "Hi", "completion": "Hello"}\\n{"prompt": "Hi", "completion": "Hello"}\\n')
    >>> report = check_file(p)
    >>> report.structure.name, report.rows, report.finding("exact_duplicate").rows
    ('prompt_completion', 2, (2,))
"""

from __future__ import annotations

import gc
import re
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Any

from attrs import field, frozen

from peftstudio.data import template
from peftstudio.data.dedup import DuplicateFinder, DuplicateResult
from peftstudio.data.detect import Converted, Example, classify_row, converter, detect_structure
from peftstudio.data.findings import (
    DataReport,
    DataStats,
    Finding,
    HistogramBin,
    Structure,
    make_finding,
)
from peftstudio.data.readers import RawRow, Source, header_columns, iter_row_batches, iter_rows, open_source
from peftstudio.errors import as_plain, make
from peftstudio.records import DatasetStats, TrainingSettings

#: What a check reports its progress to: ``progress(bytes_read, file_bytes)``, after each batch of rows.
Progress = Callable[[int, int], None]
#: Rows read to decide the structure.
DETECT_ROWS = 500
#: Fewest examples worth training on, per profile (profiles not listed use `DEFAULT_MINIMUM`).
PROFILE_MINIMUM: dict[str, int] = {
    "chatbot": 100, "code-generation": 100, "summarization": 100, "question-answering": 100,
    "instruction-following": 100, "classification": 100, "creative-writing": 50, "domain-adaptation": 200,
}
DEFAULT_MINIMUM = 20

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Phone numbers: a run of digits, spaces, dots, dashes and brackets (found fast: it must start with a digit),
# then accepted when it holds 9 to 15 digits and stands apart from other words.
_PHONE = re.compile(r"\d[\d ().-]{7,}\d")
_FAMILY = {"sharegpt": "chat"}  # structures read by the same converter


@frozen
class Analysis:
    """A check's report plus every affected row per fix (for `apply_fixes`)."""

    report: DataReport
    source: Source
    structure: Structure
    rows_by_fix: dict[str, frozenset[int]] = field(factory=dict)
    duplicates: DuplicateResult | None = None


def _has_phone(text: str) -> bool:
    for match in _PHONE.finditer(text):
        start, end = match.span()
        found = match.group()
        digits = sum(c.isdigit() for c in found)
        if found.count(".") == 1 and not any(c in found for c in " -()"):
            continue  # a decimal number such as 3.14159265358
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if 9 <= digits <= 15 and not before.isalnum() and not after.isalnum() and before not in ".,":
            return True
    return False


def row_flags(text: str) -> list[tuple[str, str]]:
    """The (code, detail) findings one example's text raises by itself: control characters, personal data."""
    flags = []
    # Cheap C-level tests first: most rows skip the regular expressions entirely.
    if not text.replace("\n", "").isprintable() and _CONTROL.search(text):
        flags.append(("control_characters", ""))
    if "@" in text and _EMAIL.search(text):
        flags.append(("personal_data", "email addresses"))
    elif _has_phone(text):
        flags.append(("personal_data", "phone numbers"))
    return flags


# What finds, in many ASCII texts at once, the few that `row_flags` must look at: each byte becomes "2" for
# a control character, "@" for itself, "1" for a character a phone number is made of (a phone number is 9
# or more of them in a row), "0" for anything else.
_MARKS = bytes(50 if _CONTROL.match(chr(c)) else 64 if c == 64 else 49 if chr(c) in "0123456789 ().-" else 48
               for c in range(256))
_PHONE_RUN = b"1" * 9


def flagged(texts: list[str]) -> Iterator[tuple[int, str, str]]:
    """`row_flags` of many texts, as (index, code, detail) in order; only texts that may raise one are looked at.

    Example:
        >>> list(flagged(["fine", "mail ann@example.org", "call 020 7946 0958", "3.14159265358"]))
        [(1, 'personal_data', 'email addresses'), (2, 'personal_data', 'phone numbers')]
    """
    ascii_texts = [i for i, text in enumerate(texts) if text.isascii()]
    others = [i for i, text in enumerate(texts) if not text.isascii()] if len(ascii_texts) < len(texts) else []
    for i in sorted(_suspects(texts, ascii_texts, True) | _suspects(texts, others, False)):
        for code, detail in row_flags(texts[i]):
            yield i, code, detail


def _suspects(texts: list[str], indexes: list[int], ascii: bool) -> set[int]:
    """Which of `texts[indexes]` hold a control character, an "@" or a possible phone number."""
    if not indexes:
        return set()
    joined = "\n".join([texts[i] for i in indexes])  # (none of the patterns matches a newline)
    starts = list(accumulate((len(texts[i]) + 1 for i in indexes), initial=0))
    if ascii:
        marks = joined.encode("ascii").translate(_MARKS)
        searches = [partial(marks.find, part) for part in (b"2", b"@", _PHONE_RUN)]
    else:
        searches = [partial(joined.find, "@"), partial(_search, _CONTROL, joined), partial(_search, _PHONE, joined)]
    found: set[int] = set()
    for search in searches:  # (each text is looked at from where the last hit's text ends)
        pos = search(0)
        while pos >= 0:
            k = bisect_right(starts, pos) - 1
            found.add(indexes[k])
            pos = search(starts[k + 1]) if k + 1 < len(indexes) else -1
    return found


def _search(pattern: re.Pattern[str], text: str, pos: int) -> int:
    match = pattern.search(text, pos)
    return -1 if match is None else match.start()


def _minimum(profile: str | None) -> int:
    return PROFILE_MINIMUM.get((profile or "").lower().replace("_", "-"), DEFAULT_MINIMUM)


def planned_context(profile: str | None, max_tokens: int | None) -> int:
    """The context length examples are measured against: `max_tokens`, else the profile's, else the default."""
    if max_tokens:
        return max_tokens
    if profile:
        try:
            from peftstudio.planner import get_profile

            return int(get_profile(profile).sequence_length)
        except Exception:  # noqa: BLE001, S110 - an unknown profile only loses its length
            pass
    return TrainingSettings().sequence_length


def _head_values(source: Source) -> list[Any]:
    values = []
    for raw in iter_rows(source):
        if raw.problem is None:
            values.append(raw.value)
            if len(values) >= DETECT_ROWS:
                break
    return values


def _columns_seen(values: list[Any]) -> str:
    names: dict[str, None] = {}
    for v in values:
        if isinstance(v, dict):
            names.update(dict.fromkeys(map(str, v)))
    return ", ".join(list(names)[:12]) or "no named columns"


class _RowClassifier:
    """classify_row with a cache by column names (the common case is one key set for the whole file)."""

    def __init__(self, structure: Structure) -> None:
        self.family = _FAMILY.get(structure.name, structure.name)
        self.cache: dict[tuple[str, ...], str | None] = {}

    def other(self, value: Any) -> str | None:
        """The structure name of a row that clearly has another structure, else None."""
        if not isinstance(value, dict):
            return None if self.family == "text" else "text"
        key = tuple(value)
        name = self.cache.get(key, "")
        if name == "":
            own = classify_row(value)
            name = None if own is None or own.confidence < 0.9 else _FAMILY.get(own.name, own.name)
            if len(self.cache) < 1024:
                self.cache[key] = name
        return name if name is not None and name != self.family else None


def row_converter(structure: Structure, classifier: _RowClassifier | None) -> Callable[[RawRow], Converted]:
    """What turns a read row into (example or None, problem code, detail); `classifier` None: no structure check."""
    to_example = converter(structure)
    unknown = structure.name == "unknown"
    cache, family = (classifier.cache, classifier.family) if classifier is not None else ({}, "")

    def convert(raw: RawRow) -> Converted:
        if raw.problem is not None:
            return Converted(None, raw.problem, raw.detail)
        if unknown:
            return Converted(None, "unknown_structure")
        if classifier is not None:
            value = raw.value
            other = cache.get(tuple(value), "") if value.__class__ is dict else ""  # (the classifier's cache first)
            if other == "":
                other = classifier.other(value)
            elif other == family:
                other = None
            if other is not None:
                return Converted(None, "mixed_structures", other)
        return to_example(raw.value)

    return convert


def iter_examples(source: Source, structure: Structure, *, strict_structure: bool = True
                  ) -> Iterator[tuple[RawRow, Example | None, str | None, str]]:
    """(raw row, example or None, problem code, detail) for every row, in file order."""
    convert = row_converter(structure, _RowClassifier(structure) if strict_structure else None)
    for raw in iter_rows(source):
        yield (raw, *convert(raw))


def resolve_structure(source: Source, mapping: Mapping[str, str] | None = None,
                      structure: str | None = None) -> tuple[Structure, list[Any]]:
    """The structure of `source` (detected, or from the user's mapping / name) and the rows it looked at."""
    head = _head_values(source)
    return detect_structure(head, mapping=mapping, name=structure), head


class _Collector:
    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {}
        self.details: dict[str, Counter[str]] = {}

    def add(self, code: str, row: int, detail: str = "") -> None:
        self.rows.setdefault(code, []).append(row)
        if detail:
            counter = self.details.setdefault(code, Counter())
            if len(counter) < 50 or detail in counter:
                counter[detail] += 1

    def detail(self, code: str) -> str:
        counter = self.details.get(code)
        if not counter:
            return ""
        common = [d for d, _ in counter.most_common(3)]
        return "; ".join(common)


#: Order of the codes one example can raise (a finding's place in the report follows its first row, then this).
_RANK = {"control_characters": 1, "personal_data": 2, "validation_overlap": 3, "too_long": 4}


class Tally:
    """Everything the check counts while it reads rows, a batch of rows at a time (see `add`)."""

    def __init__(self, limit: int, tokenizer: Any = None, overlap_keys: set[int] | frozenset[int] = frozenset()
                 ) -> None:
        self.limit = limit
        self.tokenizer = tokenizer
        self.overlap_keys = overlap_keys
        self.found = _Collector()
        self.lengths: array = array("q")  # type: ignore[type-arg]
        self.labels: Counter[str] = Counter()
        self.other_structures: Counter[str] = Counter()
        self.longest = 0
        self.total = 0

    def add(self, rows: list[RawRow], convert: Callable[[RawRow], Converted], dups: DuplicateFinder) -> None:
        """Count the next rows of the file (`convert` makes each an example or a problem) and give them to `dups`.

        The findings go in as if the rows had been checked one by one (see `merge`).
        """
        events: list[tuple[int, str, str]] = []
        examples: list[Example] = []
        numbers: list[int] = []
        for raw in rows:
            ex, problem, detail = convert(raw)
            if problem is None:
                examples.append(ex)  # type: ignore[arg-type]
                numbers.append(raw.row)
            elif problem != "unknown_structure":
                events.append((raw.row, problem, detail))
                if problem == "mixed_structures":
                    self.other_structures[detail] += 1
        self.total += len(rows)
        texts = [ex.text for ex in examples]
        events += [(numbers[i], code, detail) for i, code, detail in flagged(texts)]
        self.labels.update([ex.label for ex in examples if ex.label is not None])
        if self.overlap_keys:
            events += [(row, "validation_overlap", "") for row, ex in zip(numbers, examples, strict=True)
                       if hash(ex.turns) in self.overlap_keys]
        if self.tokenizer is None:
            counts = [template.estimate_tokens(ex, text) for ex, text in zip(examples, texts, strict=True)]
        else:
            counts = []
            for lo in range(0, len(examples), 256):  # (a batch of rendered texts per tokenizer call)
                rendered = [template.render(ex, self.tokenizer)[0] for ex in examples[lo:lo + 256]]
                counts += template.count_tokens(rendered, self.tokenizer)
        self.lengths.extend(counts)
        self.longest = max(self.longest, max(counts, default=0))
        dups.add_many(numbers, [ex.turns for ex in examples], texts)
        self.merge(events, [row for row, n in zip(numbers, counts, strict=True) if n > self.limit])

    def merge(self, events: list[tuple[int, str, str]], too_long: Any = ()) -> None:
        """Add a batch's findings, in any order: `events` (row, code, detail) plus `too_long` rows.

        Each code's rows end up ascending, and a code new to the report comes in where its first row
        (and `_RANK`) puts it, exactly as if the rows had been checked one by one.
        """
        events.sort(key=lambda e: e[0])
        per_code: dict[str, list[tuple[int, str]]] = {}
        for row, code, detail in events:
            per_code.setdefault(code, []).append((row, detail))
        long_rows = sorted([*(int(r) for r in too_long), *(r for r, _ in per_code.pop("too_long", ()))])
        if long_rows:
            per_code["too_long"] = [(r, "") for r in long_rows]
        for code in sorted(per_code, key=lambda c: (per_code[c][0][0], _RANK.get(c, 0))):
            if code == "too_long":
                self.found.rows.setdefault(code, []).extend(long_rows)
                continue
            for row, detail in per_code[code]:
                self.found.add(code, row, detail)


def _histogram(lengths: array) -> tuple[HistogramBin, ...]:  # type: ignore[type-arg]
    if not lengths:
        return ()
    import numpy as np

    values = np.frombuffer(lengths, dtype=np.int64) if lengths.itemsize == 8 else np.asarray(lengths)
    lo, hi = int(values.min()), int(values.max())
    width = max(1, -(-(hi - lo + 1) // 10))
    edges = np.arange(lo, hi + width + 1, width)
    counts, _ = np.histogram(values, bins=edges)
    return tuple(HistogramBin(int(a), int(b), int(c)) for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True))


def length_stats(lengths: array, estimated: bool) -> DataStats:  # type: ignore[type-arg]
    """Min, median, 95th percentile, max, total and a histogram of token lengths."""
    if not lengths:
        return DataStats(tokens_estimated=estimated)
    import numpy as np

    values = np.frombuffer(lengths, dtype=np.int64) if lengths.itemsize == 8 else np.asarray(lengths)
    n, lo, hi = len(values), int(values.min()), int(values.max())
    places = np.array([(n - 1) // 2, min(n - 1, int(0.95 * n))])  # the median's and the 95th percentile's
    if hi - lo <= 4 * n + 1024:  # (token counts are small integers: counting them beats sorting them)
        median, p95 = (np.searchsorted(np.cumsum(np.bincount(values - lo)), places, side="right") + lo).tolist()
    else:
        median, p95 = np.partition(values, places)[places].tolist()
    return DataStats(
        usable_rows=n, tokens_min=lo, tokens_median=int(median), tokens_p95=int(p95), tokens_max=hi,
        tokens_total=int(values.sum()), tokens_estimated=estimated, histogram=_histogram(lengths),
    )


def open_plain(path: str | Path) -> Source:
    """`open_source`, with a missing or unreadable path raised as a plain error."""
    try:
        return open_source(path)
    except IsADirectoryError:
        raise make("file_not_found", path=f"{path} (a folder, not a file)") from None
    except OSError as exc:
        raise as_plain(exc) from None


def _validation_keys(path: str | Path, mapping: Mapping[str, str] | None, name: str | None) -> set[int]:
    source = open_plain(path)
    structure, _ = resolve_structure(source, mapping, name)
    return {hash(ex.turns) for _raw, ex, _p, _d in iter_examples(source, structure) if ex is not None}


def analyse(path: str | Path, *, profile: str | None = None, tokenizer: Any = None, max_tokens: int | None = None,
            mapping: Mapping[str, str] | None = None, structure: str | None = None,
            validation_path: str | Path | None = None, progress: Progress | None = None) -> Analysis:
    """The full check of `path` (see `check_file`), keeping all affected rows per fix."""
    source = open_plain(path)
    file_findings: list[Finding] = []
    limit = planned_context(profile, max_tokens)
    if source.empty:
        file_findings.append(make_finding("empty_file"))
    elif source.encoding.binary and source.format != "parquet":
        file_findings.append(make_finding("binary_file"))
    if source.encoding.legacy and not source.empty and not source.encoding.binary:
        file_findings.append(make_finding("legacy_encoding", encoding=source.encoding.label))
    struct, head = resolve_structure(source, mapping, structure)
    if struct.name == "unknown" and head:
        file_findings.append(make_finding("unknown_structure", columns=_columns_seen(head)))
    overlap_keys = _validation_keys(validation_path, mapping, structure) if validation_path else set()

    tally = Tally(limit, tokenizer, overlap_keys)
    dups = DuplicateFinder()
    classifier = None if mapping else _RowClassifier(struct)
    convert = row_converter(struct, classifier)
    with _no_cycle_collection():
        for batch, done in iter_row_batches(source):
            tally.add(batch, convert, dups)
            if progress is not None:
                progress(min(done, source.size), source.size)
    found, lengths, labels, total = tally.found, tally.lengths, tally.labels, tally.total
    longest, other_structures = tally.longest, tally.other_structures

    result = dups.finish()
    for row in sorted(result.exact):
        found.add("exact_duplicate", row)
    for row in sorted(result.near):
        if row not in result.exact:
            found.add("near_duplicate", row)
    stats = length_stats(lengths, estimated=tokenizer is None)
    stats = DataStats(**{**_fields(stats), "rows": total, "labels": dict(labels.most_common(50))})
    findings = _row_findings(found, struct, limit, longest, tokenizer is None, other_structures)
    findings += _file_level(stats, labels, profile, struct, tokenizer is None, result.capped, dups.max_rows)
    if total == 0 and not source.empty and not any(f.severity == "error" for f in file_findings):
        columns = header_columns(source)  # a CSV or TSV whose header stands alone: not "no problems"
        findings.append(make_finding("header_only", columns=", ".join(columns)) if columns
                        else make_finding("no_examples"))
    if any(f.code == "no_examples" for f in findings) and any(
            f.severity == "error" and f.code != "no_examples" for f in file_findings + findings):
        findings = [f for f in findings if f.code != "no_examples"]  # another error already says why
    findings = _ordered(file_findings + findings)
    if progress is not None:
        progress(source.size, source.size)
    dataset_stats = None
    if tokenizer is not None and stats.usable_rows:
        dataset_stats = DatasetStats(rows=stats.usable_rows, tokens_min=stats.tokens_min,
                                     tokens_median=stats.tokens_median, tokens_p95=stats.tokens_p95,
                                     tokens_max=stats.tokens_max, tokens_total=stats.tokens_total)
    report = DataReport(path=str(path), format=source.format, encoding=source.encoding.label, structure=struct,
                        rows=total, findings=tuple(findings), stats=stats, dataset_stats=dataset_stats)
    by_fix: dict[str, set[int]] = {}
    for code, rows in found.rows.items():
        fix_id = make_finding(code).fix_id
        if fix_id:
            by_fix.setdefault(fix_id, set()).update(rows)
    return Analysis(report, source, struct, {k: frozenset(v) for k, v in by_fix.items()}, result)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: reading makes millions of containers and no cycles, and the collector
    walked every live one again each time a block of rows was parsed (a third of the check's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fields(stats: DataStats) -> dict[str, Any]:
    import attrs

    return attrs.asdict(stats, recurse=False)


def _row_findings(found: _Collector, struct: Structure, limit: int, longest: int, estimated: bool,
                  others: Counter[str]) -> list[Finding]:
    out = []
    for code, rows in found.rows.items():
        details: dict[str, Any] = {"detail": found.detail(code), "structure": struct.name}
        if code == "too_long":
            details.update(max_tokens=limit, longest=longest, estimated=", estimated" if estimated else "")
        if code == "mixed_structures":
            details["detail"] = ", ".join(name for name, _ in others.most_common(3))
        out.append(make_finding(code, rows=rows, count=len(rows), **details))
    return out


def _file_level(stats: DataStats, labels: Counter[str], profile: str | None, struct: Structure,
                estimated: bool, capped: bool, cap: int) -> list[Finding]:
    out = []
    if stats.usable_rows == 0 and stats.rows > 0:
        out.append(make_finding("no_examples"))
    minimum = _minimum(profile)
    if 0 < stats.usable_rows < minimum:
        who = f"the {profile} profile" if profile else "fine-tuning"
        out.append(make_finding("too_few_examples", rows_count=stats.usable_rows, who=who, minimum=minimum))
    if struct.name == "classification" and labels:
        common, rare = labels.most_common()[0], labels.most_common()[-1]
        if len(labels) == 1 or common[1] >= 5 * rare[1]:
            shown = ", ".join(f"{name} {n}" for name, n in labels.most_common(6))
            out.append(make_finding("label_imbalance", detail=shown if len(labels) > 1 else
                                    f"every example has the label {common[0]!r}"))
    if estimated and stats.usable_rows:
        out.append(make_finding("tokens_estimated"))
    if capped:
        out.append(make_finding("dedup_capped", limit=f"{cap:,}"))
    return out


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: _SEVERITY_ORDER.get(f.severity, 3))


def check_file(path: str | Path, *, profile: str | None = None, tokenizer: Any = None,
               max_tokens: int | None = None, mapping: Mapping[str, str] | None = None,
               structure: str | None = None, validation_path: str | Path | None = None,
               progress: Progress | None = None) -> DataReport:
    """Check a data file and say what is in it and what is wrong with it.

    `tokenizer` gives exact token counts (estimated otherwise, which a finding says); `max_tokens` is
    the planned context (default: the default sequence length); `mapping` (role -> column) and
    `structure` override detection; `validation_path` is a validation file to look for overlap with;
    `progress(bytes_read, file_bytes)` is called as the file is read, and once more at the end.

    Example:
        >>> from peftstudio.data.samples import sample_path
        >>> report = check_file(sample_path("pirate_chat.jsonl"))
        >>> report.structure.name, report.ok
        ('chat', True)
    """
    return analyse(path, profile=profile, tokenizer=tokenizer, max_tokens=max_tokens, mapping=mapping,
                   structure=structure, validation_path=validation_path, progress=progress).report


__all__ = [
    "Analysis", "Progress", "Tally", "analyse", "check_file", "flagged", "iter_examples", "length_stats",
    "open_plain", "resolve_structure", "row_converter", "row_flags",
]
