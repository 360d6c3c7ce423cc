"""Find what a playground (or an export) should load for a run id or a model version."""

from __future__ import annotations

from pathlib import Path

from attrs import frozen

from peftstudio.errors import PlainError, make
from peftstudio.records.config import RunConfig
from peftstudio.store import Store, open_store


@frozen
class TunedModel:
    """A base model reference with the LoRA adapter trained on it, and where it came from."""

    base_reference: str
    adapter_dir: Path
    config: RunConfig
    run_id: str
    version_id: str | None = None


def run_adapter_dir(folder: str | Path, summary: dict[str, object] | None = None) -> Path:
    """Where a run keeps its final adapter: the summary's ``adapter_path`` if set, else ``<run>/adapter``."""
    for key in ("adapter_path", "adapter_dir"):
        if summary and isinstance(summary.get(key), str):
            return Path(str(summary[key]))
    return Path(folder) / "adapter"


def resolve_tuned(ref: str, *, store: Store | None = None) -> TunedModel:
    """A model version (``v2``, a version id) or a completed run id, as a `TunedModel`.

    Raises a plain ``run_not_found`` error when `ref` names neither.
    """
    db = store or open_store()
    try:
        from peftstudio.history import versions

        v = versions.get_version(ref, store=db)
        cfg = versions.version_config(v.id, store=db)
        return TunedModel(cfg.model.reference, versions.adapter_path(v.id, store=db), cfg, v.run_id or "", v.id)
    except (PlainError, KeyError, ImportError):
        pass
    try:
        run = db.get_run(ref)
    except KeyError:
        raise make("run_not_found", run_id=ref) from None
    adapter = run_adapter_dir(run.folder, run.summary)
    if not (adapter / "adapter_config.json").is_file():
        raise make("checkpoint_corrupt", path=str(adapter),
                   fallback=f"The run is {run.status}; its trained adapter is not there yet. "
                            "Finish or resume the run first.")
    return TunedModel(run.config.model.reference, adapter, run.config, run.id, None)


def open_playground(ref: str, *, store: Store | None = None, save_history: bool = True):  # type: ignore[no-untyped-def]
    """A `PlaygroundSession` for a run or version, its adapter loaded over one copy of the base model."""
    from peftstudio.playground.session import PlaygroundSession, is_completion_run

    tuned = resolve_tuned(ref, store=store)
    # A run trained on plain text continues text; chat data is asked as a chat turn.
    completion = is_completion_run(tuned.config)
    return PlaygroundSession(tuned.base_reference, tuned.adapter_dir, run_id=tuned.run_id,
                             version_id=tuned.version_id, profile=tuned.config.profile, store=store,
                             save_history=save_history, completion=completion)
