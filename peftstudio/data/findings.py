"""Findings of the data check: codes, plain messages, fixes, and the report records.

Every problem the check can find has an entry in `CODES`: its severity, a
message template, the sentence saying how to fix it and, where PEFT Studio can
fix it itself, a fix id for `apply_fixes`. Rows are the 1-based line numbers an
editor shows (row numbers for Parquet); a finding lists at most `MAX_ROWS_LISTED`
of them and carries the full count.

Example:
    >>> f = make_finding("exact_duplicate", rows=[3, 9], count=2)
    >>> f.severity, f.rows, f.fix_id
    ('warning', (3, 9), 'remove_duplicates')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attrs import field, frozen

from peftstudio.records import DatasetStats

#: How many row numbers one finding lists (the count covers all of them).
MAX_ROWS_LISTED = 50

SEVERITIES = ("error", "warning", "info")


@frozen
class CodeInfo:
    severity: str
    message: str  # template; {count}, {rows_word} and finding-specific details
    fix: str
    fix_id: str | None = None


# Messages say what is wrong in plain words; `{n}` is the number of affected rows.
CODES: dict[str, CodeInfo] = {
    "empty_file": CodeInfo("error", "The file is empty.", "Choose the file that holds your examples."),
    "binary_file": CodeInfo(
        "error", "This is not a text file: it looks like binary data (an image, an archive or a program).",
        "Export your examples as CSV, JSON Lines, JSON, plain text or Parquet and choose that file."),
    "malformed_file": CodeInfo("error", "The file cannot be read: {detail}.", "Export the file again from where it came."),
    "header_only": CodeInfo("error", "The file has column names ({columns}) but no examples under them.",
                            "Add your examples, one per row under the column names, or choose the file that "
                            "holds them."),
    "no_examples": CodeInfo("error", "No usable examples were found in the file.",
                            "Check that the file holds your examples, one per line or row."),
    "unknown_structure": CodeInfo(
        "error", "PEFT Studio cannot tell which columns hold the prompt and the answer (found: {columns}).",
        "Rename the columns (for example to prompt and completion, or instruction and output), "
        "or choose which column is which."),
    "legacy_encoding": CodeInfo(
        "warning", "The file is not UTF-8; it was read as {encoding}. Accented letters may be wrong.",
        "Check a few rows with accents; the fix writes the cleaned file as UTF-8.", "convert_to_utf8"),
    "undecodable_bytes": CodeInfo(
        "error", "{n} {rows_word} contain bytes that are not valid text.",
        "Drop those rows, or save the file again as UTF-8 text.", "drop_malformed"),
    "malformed_json": CodeInfo(
        "error", "{n} {rows_word} are not valid JSON{detail_sentence}",
        "Drop the broken rows, or correct them in a text editor (look for missing quotes, commas or brackets).",
        "drop_malformed"),
    "wrong_row_type": CodeInfo(
        "error", "{n} {rows_word} hold something other than an example{detail_sentence}",
        "Each row must be an object such as {{\"prompt\": ..., \"completion\": ...}}; drop the others.",
        "drop_malformed"),
    "wrong_column_count": CodeInfo(
        "error", "{n} {rows_word} have a different number of values than the header{detail_sentence}",
        "Drop those rows, or check them for an unquoted comma or a missing value.", "drop_malformed"),
    "malformed_row": CodeInfo("error", "{n} {rows_word} cannot be read{detail_sentence}",
                              "Drop those rows, or correct them in an editor.", "drop_malformed"),
    "line_too_long": CodeInfo(
        "error", "{n} {rows_word} are longer than 32 MB and were not read.",
        "Drop those rows; an example that long cannot be trained on.", "drop_malformed"),
    "missing_field": CodeInfo(
        "error", "{n} {rows_word} lack a field the {structure} structure needs ({detail}).",
        "Drop those rows, or fill in the missing field.", "drop_malformed"),
    "wrong_field_type": CodeInfo(
        "error", "{n} {rows_word} have a field of the wrong kind ({detail}).",
        "Drop those rows, or correct the field.", "drop_malformed"),
    "empty_field": CodeInfo(
        "error", "{n} {rows_word} have an empty or blank field ({detail}).",
        "Drop those rows, or write the missing text.", "drop_empty"),
    "mixed_structures": CodeInfo(
        "warning", "{n} {rows_word} have a different structure ({detail}) than the rest ({structure}); "
        "they are left out of training.",
        "Drop those rows, or split the file into one file per structure.", "drop_other_structures"),
    "missing_assistant": CodeInfo(
        "error", "{n} {rows_word} have no assistant turn, so there is nothing to learn from them.",
        "Drop those rows, or add the assistant's answer.", "drop_bad_turns"),
    "role_order": CodeInfo(
        "error", "{n} {rows_word} have turns in an order chat models do not accept ({detail}).",
        "Conversations must go system (optional), user, assistant, user, assistant, ... ending with the "
        "assistant; drop the other rows or correct them.", "drop_bad_turns"),
    "exact_duplicate": CodeInfo(
        "warning", "{n} {rows_word} repeat an earlier example word for word.",
        "Remove the copies; repeated examples make the model memorise them.", "remove_duplicates"),
    "near_duplicate": CodeInfo(
        "warning", "{n} {rows_word} are almost the same as an earlier example.",
        "Remove the near copies, or keep them if the small differences matter.", "remove_near_duplicates"),
    "too_long": CodeInfo(
        "warning", "{n} {rows_word} are longer than the planned context of {max_tokens} tokens "
        "(longest: {longest} tokens{estimated}); the end of each would be cut off.",
        "Drop them, cut them to the context length (fix truncate_too_long), or plan a longer context.",
        "drop_too_long"),
    "too_few_examples": CodeInfo(
        "warning", "Only {rows_count} usable examples; {who} needs at least {minimum} to learn reliably.",
        "Add more examples (a few hundred is a good start)."),
    "control_characters": CodeInfo(
        "warning", "{n} {rows_word} contain invisible control characters.",
        "Remove them; they usually come from copying text out of other programs.", "strip_control_chars"),
    "label_imbalance": CodeInfo(
        "warning", "The labels are unbalanced: {detail}.",
        "Add examples of the rare labels, or expect the model to favour the common ones."),
    "validation_overlap": CodeInfo(
        "warning", "{n} {rows_word} also appear in the validation file, so validation would overstate quality.",
        "Remove them from the training file.", "drop_validation_overlap"),
    "personal_data": CodeInfo(
        "info", "{n} {rows_word} contain what looks like personal data ({detail}).",
        "Check that you may use it; the model can repeat such strings."),
    "tokens_estimated": CodeInfo(
        "info", "Token counts are estimates (about 4 characters per token): no tokenizer was given.",
        "Choose a model to count tokens exactly."),
    "dedup_capped": CodeInfo(
        "info", "Duplicates were looked for in the first {limit} rows only, to keep memory small.",
        "Split very large files to check every row for duplicates."),
}

#: Fixes `apply_fixes` knows, with what each does.
FIXES: dict[str, str] = {
    "drop_malformed": "drop rows that cannot be read or lack a needed field",
    "drop_empty": "drop rows with an empty or blank field",
    "remove_duplicates": "drop word-for-word copies of earlier rows",
    "remove_near_duplicates": "drop rows that are almost the same as an earlier row",
    "drop_too_long": "drop examples longer than the context",
    "truncate_too_long": "cut examples down to the context length",
    "drop_other_structures": "drop rows whose structure differs from the rest",
    "drop_bad_turns": "drop conversations with no assistant turn or turns in the wrong order",
    "strip_control_chars": "remove invisible control characters",
    "drop_validation_overlap": "drop rows that also appear in the validation file",
    "convert_to_utf8": "write the cleaned file as UTF-8",
    "map_columns": "rename the columns to the standard names of the structure",
}


@frozen
class Finding:
    """One problem found in a data file.

    `rows` lists the first `MAX_ROWS_LISTED` affected rows (1-based, as an editor shows them);
    `count` is how many rows are affected in all (0 for findings about the whole file).

    Example:
        >>> Finding("empty_file", "error", (), "The file is empty.", "Choose another file.").fix_id is None
        True
    """

    code: str
    severity: str
    rows: tuple[int, ...]
    message: str
    fix: str
    fix_id: str | None = None
    count: int = 0


@frozen
class Structure:
    """What kind of examples a file holds and which columns play which role.

    `columns` maps a role (``messages``, ``prompt``, ``completion``, ``instruction``, ``input``,
    ``output``, ``question``, ``answer``, ``text``, ``label``, ``system``) to the file's column name.

    Example:
        >>> Structure("prompt_completion", {"prompt": "Q", "completion": "A"}, 0.9).columns["prompt"]
        'Q'
    """

    name: str
    columns: dict[str, str] = field(factory=dict)
    confidence: float = 0.0


@frozen
class HistogramBin:
    """Examples whose token length is in ``[start, end)``."""

    start: int
    end: int
    count: int


@frozen
class DataStats:
    """Numbers about the usable examples (token counts estimated when `tokens_estimated`)."""

    rows: int = 0
    usable_rows: int = 0
    tokens_min: int = 0
    tokens_median: int = 0
    tokens_p95: int = 0
    tokens_max: int = 0
    tokens_total: int = 0
    tokens_estimated: bool = True
    histogram: tuple[HistogramBin, ...] = ()
    labels: dict[str, int] = field(factory=dict)
    turns_median: int = 0


@frozen
class DataReport:
    """What the data check found in one file.

    `rows` is the number of examples read; `dataset_stats` is set when a tokenizer was given
    (exact token counts for the planner).

    Example:
        >>> r = DataReport(path="d.jsonl", format="jsonl", encoding="UTF-8",
        ...                structure=Structure("text", {"text": "text"}, 1.0), rows=0, findings=(), stats=DataStats())
        >>> r.ok
        True
    """

    path: str
    format: str
    encoding: str
    structure: Structure
    rows: int
    findings: tuple[Finding, ...]
    stats: DataStats
    dataset_stats: DatasetStats | None = None

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def ok(self) -> bool:
        """True when nothing stops training (warnings and notes may remain)."""
        return not self.errors

    @property
    def fix_ids(self) -> tuple[str, ...]:
        """The automatic fixes that apply to this file's findings, in finding order."""
        return tuple(dict.fromkeys(f.fix_id for f in self.findings if f.fix_id))

    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)


def make_finding(code: str, rows: Iterable[int] = (), count: int | None = None, **details: Any) -> Finding:
    """The finding for `code` with its message filled from `details` (see `CODES`)."""
    info = CODES[code]
    listed = tuple(rows)[:MAX_ROWS_LISTED]
    n = len(listed) if count is None else count
    detail = str(details.get("detail", "") or "")
    values = {
        "n": n, "rows_word": "row" if n == 1 else "rows", "detail": detail,
        "detail_sentence": f": {detail}." if detail else ".", **details,
    }
    message = info.message.format_map(_Blank(values))
    if n == 1:  # "1 row are" reads badly
        message = message.replace("1 row are ", "1 row is ").replace("1 row have ", "1 row has ")
        message = message.replace("1 row contain ", "1 row contains ").replace("1 row lack ", "1 row lacks ")
        message = message.replace("1 row repeat ", "1 row repeats ").replace("1 row hold ", "1 row holds ")
    return Finding(code, info.severity, listed, message, info.fix.format_map(_Blank({})), info.fix_id, n)


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


__all__ = [
    "CODES", "FIXES", "MAX_ROWS_LISTED", "CodeInfo", "DataReport", "DataStats", "Finding", "HistogramBin",
    "Structure", "make_finding",
]
