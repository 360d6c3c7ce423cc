"""Training data: read any simple file, find its structure and problems, fix it, preview it, build it.

Names are imported from their modules on first use (as in `peftstudio`), so checking a file does not
pay for loading the dataset builder, the fixes or the previews.

Example:
    >>> from peftstudio.data import check_file, sample_path
    >>> report = check_file(sample_path("pirate_chat.jsonl"))
    >>> report.format, report.structure.name, report.rows >= 300
    ('jsonl', 'chat', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peftstudio.lazy import lazy_names

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "CODES": "peftstudio.data.findings",
    "FIXES": "peftstudio.data.findings",
    "SAMPLES": "peftstudio.data.samples",
    "DataReport": "peftstudio.data.findings",
    "DataStats": "peftstudio.data.findings",
    "Finding": "peftstudio.data.findings",
    "FixResult": "peftstudio.data.fixes",
    "HistogramBin": "peftstudio.data.findings",
    "Preview": "peftstudio.data.previews",
    "PreviewExample": "peftstudio.data.previews",
    "Span": "peftstudio.data.template",
    "Structure": "peftstudio.data.findings",
    "TokenizedSplits": "peftstudio.data.build",
    "apply_fixes": "peftstudio.data.fixes",
    "build_datasets": "peftstudio.data.build",
    "check_file": "peftstudio.data.check",
    "dataset_reference": "peftstudio.data.build",
    "planning_stats": "peftstudio.data.planning",
    "preview": "peftstudio.data.previews",
    "sample_path": "peftstudio.data.samples",
    "stats_of": "peftstudio.data.planning",
}

__all__ = [
    "CODES", "FIXES", "SAMPLES", "DataReport", "DataStats", "Finding", "FixResult", "HistogramBin", "Preview",
    "PreviewExample", "Span", "Structure", "TokenizedSplits", "apply_fixes", "build_datasets", "check_file",
    "dataset_reference", "planning_stats", "preview", "sample_path", "stats_of",
]
assert sorted(__all__) == sorted(_EXPORTS)


__getattr__, __dir__ = lazy_names(globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from peftstudio.data.build import TokenizedSplits, build_datasets, dataset_reference
    from peftstudio.data.check import check_file
    from peftstudio.data.findings import CODES, FIXES, DataReport, DataStats, Finding, HistogramBin, Structure
    from peftstudio.data.fixes import FixResult, apply_fixes
    from peftstudio.data.planning import planning_stats, stats_of
    from peftstudio.data.previews import Preview, PreviewExample, preview
    from peftstudio.data.samples import SAMPLES, sample_path
    from peftstudio.data.template import Span
