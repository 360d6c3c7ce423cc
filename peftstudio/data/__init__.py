"""Training data: read any simple file, find its structure and problems, fix it, preview it, build it.

Example:
    >>> from peftstudio.data import check_file, sample_path
    >>> report = check_file(sample_path("pirate_chat.jsonl"))
    >>> report.format, report.structure.name, report.rows >= 300
    ('jsonl', 'chat', True)
"""

from peftstudio.data.build import TokenizedSplits, build_datasets, dataset_reference
from peftstudio.data.check import check_file
from peftstudio.data.findings import CODES, FIXES, DataReport, DataStats, Finding, HistogramBin, Structure
from peftstudio.data.fixes import FixResult, apply_fixes
from peftstudio.data.preview import Preview, PreviewExample, preview
from peftstudio.data.samples import SAMPLES, sample_path
from peftstudio.data.template import Span

__all__ = [
    "CODES",
    "FIXES",
    "SAMPLES",
    "DataReport",
    "DataStats",
    "Finding",
    "FixResult",
    "HistogramBin",
    "Preview",
    "PreviewExample",
    "Span",
    "Structure",
    "TokenizedSplits",
    "apply_fixes",
    "build_datasets",
    "check_file",
    "dataset_reference",
    "preview",
    "sample_path",
]
