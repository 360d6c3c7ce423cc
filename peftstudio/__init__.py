"""PEFT Studio: safe, obvious LoRA/QLoRA fine-tuning of language models.

The public API is the names in `__all__`. Importing `peftstudio` is fast:
each name is imported from its module on first use, so torch and
transformers load only when something needs them.

Example:
    >>> import peftstudio
    >>> hw = peftstudio.simulated_hardware("RTX 3060 12GB")
    >>> hw.gpus[0].name
    'RTX 3060 12GB'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peftstudio.lazy import lazy_names

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # records
    "DataSettings": "peftstudio.records",
    "DatasetReference": "peftstudio.records",
    "DatasetStats": "peftstudio.records",
    "GpuInfo": "peftstudio.records",
    "HardwareProfile": "peftstudio.records",
    "LoraSettings": "peftstudio.records",
    "ModelChoice": "peftstudio.records",
    "RecordError": "peftstudio.records",
    "RunConfig": "peftstudio.records",
    "Setting": "peftstudio.records",
    "TrainingSettings": "peftstudio.records",
    # errors
    "Action": "peftstudio.errors",
    "ErrorInfo": "peftstudio.errors",
    "PlainError": "peftstudio.errors",
    # store
    "RunRow": "peftstudio.store",
    "Store": "peftstudio.store",
    "open_store": "peftstudio.store",
    # hardware
    "probe_hardware": "peftstudio.hardware",
    "simulated_hardware": "peftstudio.hardware",
    # data
    "DataReport": "peftstudio.data",
    "Finding": "peftstudio.data",
    "FixResult": "peftstudio.data",
    "Preview": "peftstudio.data",
    "TokenizedSplits": "peftstudio.data",
    "apply_fixes": "peftstudio.data",
    "build_datasets": "peftstudio.data",
    "check_file": "peftstudio.data",
    "dataset_reference": "peftstudio.data",
    "preview": "peftstudio.data",
    "sample_path": "peftstudio.data",
    # playground
    "GenerationSettings": "peftstudio.playground",
    "PlaygroundSession": "peftstudio.playground",
    "chat_history": "peftstudio.playground",
    "open_playground": "peftstudio.playground",
    # models
    "BUILTIN_MODELS": "peftstudio.models",
    "load_model": "peftstudio.models",
    "load_tokenizer": "peftstudio.models",
    "model_folder": "peftstudio.models",
    "resolve_model": "peftstudio.models",
    # planner
    "MemoryBreakdown": "peftstudio.planner",
    "ModelSpec": "peftstudio.models.catalog",
    "PROFILES": "peftstudio.planner",
    "Plan": "peftstudio.planner",
    "Profile": "peftstudio.planner",
    "find_model": "peftstudio.models.catalog",
    "get_profile": "peftstudio.planner",
    "plan": "peftstudio.planner",
    # notifications
    "CompletionSummary": "peftstudio.notify",
    "NotifySettings": "peftstudio.notify",
    "RunNotifier": "peftstudio.notify",
    # history: presets, run comparison, versions
    "Preset": "peftstudio.history",
    "save_preset": "peftstudio.history",
    "list_presets": "peftstudio.history",
    "get_preset": "peftstudio.history",
    "export_preset": "peftstudio.history",
    "import_preset": "peftstudio.history",
    "delete_preset": "peftstudio.history",
    "compare_runs": "peftstudio.history",
    "runs_table": "peftstudio.history",
    "clone_run_config": "peftstudio.history",
    "ModelVersion": "peftstudio.history",
    "list_versions": "peftstudio.history",
    "get_version": "peftstudio.history",
    "set_active": "peftstudio.history",
    "active_version": "peftstudio.history",
    "archive_version": "peftstudio.history",
    "restore_version": "peftstudio.history",
    "delete_version": "peftstudio.history",
    "record_completed_run": "peftstudio.history",
    "check_space": "peftstudio.history",
    # engine: runs in a worker process, exact pause/resume
    "fit": "peftstudio.engine.trainer",
    "pause_run": "peftstudio.engine.runs",
    "resume_run": "peftstudio.engine.runs",
    "run_status": "peftstudio.engine.runs",
    "start_run": "peftstudio.engine.runs",
    "wait_run": "peftstudio.engine.runs",
    # guards: quality score, fix and resume
    "QualityScore": "peftstudio.quality",
    "apply_fix": "peftstudio.fixes",
    "list_fixes": "peftstudio.fixes",
    "score_run": "peftstudio.quality",
    # exports and Test Export
    "CardInfo": "peftstudio.export",
    "ExportCheck": "peftstudio.export",
    "ExportProgress": "peftstudio.export",
    "ExportResult": "peftstudio.export",
    "ExportSource": "peftstudio.export",
    "ExportTestResult": "peftstudio.export",
    "GenerationDefaults": "peftstudio.export",
    "export_model": "peftstudio.export",
    "export_gguf": "peftstudio.export",
    "export_hf": "peftstudio.export",
    "export_lmstudio": "peftstudio.export",
    "export_ollama": "peftstudio.export",
    "verify_export": "peftstudio.export",
}

__all__ = sorted([*_EXPORTS, "__version__"])


__getattr__, __dir__ = lazy_names(globals(), _EXPORTS)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from peftstudio.data import (
        DataReport,
        Finding,
        FixResult,
        Preview,
        TokenizedSplits,
        apply_fixes,
        build_datasets,
        check_file,
        dataset_reference,
        preview,
        sample_path,
    )
    from peftstudio.engine.runs import pause_run, resume_run, run_status, start_run, wait_run
    from peftstudio.engine.trainer import fit
    from peftstudio.errors import Action, ErrorInfo, PlainError
    from peftstudio.export import (
        CardInfo,
        ExportCheck,
        ExportProgress,
        ExportResult,
        ExportSource,
        ExportTestResult,
        GenerationDefaults,
        export_gguf,
        export_hf,
        export_lmstudio,
        export_model,
        export_ollama,
        verify_export,
    )
    from peftstudio.fixes import apply_fix, list_fixes
    from peftstudio.hardware import probe_hardware, simulated_hardware
    from peftstudio.history import (
        ModelVersion,
        Preset,
        active_version,
        archive_version,
        check_space,
        clone_run_config,
        compare_runs,
        delete_preset,
        delete_version,
        export_preset,
        get_preset,
        get_version,
        import_preset,
        list_presets,
        list_versions,
        record_completed_run,
        restore_version,
        runs_table,
        save_preset,
        set_active,
    )
    from peftstudio.models import BUILTIN_MODELS, load_model, load_tokenizer, model_folder, resolve_model
    from peftstudio.models.catalog import ModelSpec, find_model
    from peftstudio.notify import CompletionSummary, NotifySettings, RunNotifier
    from peftstudio.planner import PROFILES, MemoryBreakdown, Plan, Profile, get_profile
    from peftstudio.planner.plan import plan
    from peftstudio.playground import GenerationSettings, PlaygroundSession, chat_history, open_playground
    from peftstudio.quality import QualityScore, score_run
    from peftstudio.records import (
        DatasetReference,
        DatasetStats,
        DataSettings,
        GpuInfo,
        HardwareProfile,
        LoraSettings,
        ModelChoice,
        RecordError,
        RunConfig,
        Setting,
        TrainingSettings,
    )
    from peftstudio.store import RunRow, Store, open_store
