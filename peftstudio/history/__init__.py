"""History: presets to save and share, comparison of runs, automatic model versions.

Example:
    >>> from peftstudio.history import lower_is_better
    >>> lower_is_better("val_loss")
    True
"""

from peftstudio.history.archive import archive_version, delete_version, restore_version
from peftstudio.history.compare import (
    COLUMNS,
    Comparison,
    ConfigDifference,
    MetricChart,
    RunTableRow,
    clone_run_config,
    compare_runs,
    config_differences,
    lower_is_better,
    runs_table,
)
from peftstudio.history.disk import SpaceCandidate, SpacePrompt, check_space
from peftstudio.history.presets import (
    Adjustment,
    ImportResult,
    Preset,
    PresetEntry,
    check_import,
    dataset_reference,
    delete_preset,
    export_preset,
    get_preset,
    import_preset,
    list_presets,
    read_preset_file,
    save_preset,
)
from peftstudio.history.speed import device_record, measured_speed
from peftstudio.history.versions import (
    ModelVersion,
    TimelineEntry,
    VersionComparison,
    active_version,
    adapter_path,
    compare_versions,
    create_version,
    get_version,
    lines,
    list_versions,
    record_completed_run,
    repair_versions,
    set_active,
    timeline,
)

__all__ = [
    "COLUMNS",
    "Adjustment",
    "Comparison",
    "ConfigDifference",
    "ImportResult",
    "MetricChart",
    "ModelVersion",
    "Preset",
    "PresetEntry",
    "RunTableRow",
    "SpaceCandidate",
    "SpacePrompt",
    "TimelineEntry",
    "VersionComparison",
    "active_version",
    "adapter_path",
    "archive_version",
    "check_import",
    "check_space",
    "clone_run_config",
    "compare_runs",
    "compare_versions",
    "config_differences",
    "create_version",
    "dataset_reference",
    "delete_preset",
    "delete_version",
    "device_record",
    "export_preset",
    "get_preset",
    "get_version",
    "import_preset",
    "lines",
    "list_presets",
    "list_versions",
    "lower_is_better",
    "measured_speed",
    "read_preset_file",
    "record_completed_run",
    "repair_versions",
    "restore_version",
    "runs_table",
    "save_preset",
    "set_active",
    "timeline",
]
