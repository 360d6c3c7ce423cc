"""Comparing runs: the sortable table of every finished run, 2-5 runs side by side (their charts aligned by
step, the best run per metric and per column as the library decides it, the settings that differ), and a run's
settings as the wizard's choices ("Train again with these settings"). All through `peftstudio.history.compare`."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from peftstudio.server.deps import as_json, settings_of
from peftstudio.server.errors import JSON
from peftstudio.server.wizardform import wizard_form

router = APIRouter(prefix="/api", tags=["compare"])

#: 2 to 5 runs, as ``?runs=A&runs=B``
RUNS = Query(min_length=2, max_length=5)


@router.get("/compare/runs")
def table(sort: str = Query(default="date", max_length=40), descending: bool | None = None) -> JSON:
    """Every finished run as a table row, sorted by a column (best first unless `descending` says otherwise;
    unknown values last), which way is better for each column (None: neither, e.g. the date), and the order
    the rows came in (`descending`)."""
    from peftstudio.history.compare import COLUMNS, best_first, runs_table

    rows = runs_table(sort_by=sort, descending=descending)
    return JSON({"rows": [as_json(r) for r in rows], "lower_is_better": COLUMNS, "sort": sort,
                 "descending": best_first(sort) if descending is None else descending})


@router.get("/compare")
def compare(runs: list[str] = RUNS) -> JSON:
    """2-5 runs (``?runs=A&runs=B``): their rows, each metric's chart aligned by step and by tokens with the best
    run marked, the best run per column, and the settings that differ."""
    from peftstudio.history.compare import compare_runs, comparison_dict

    for rid in runs:
        if len(rid) > 200:
            from peftstudio.errors import make

            raise make("config_invalid", problems="`runs`: a run id is at most 200 characters")
    return JSON(comparison_dict(compare_runs(runs)))


@router.get("/runs/{run_id}/clone")
def clone(run_id: str, request: Request) -> JSON:
    """The run's settings as the wizard's choices, to train again with them (the data too when it is here)."""
    from peftstudio.history.compare import clone_run_config

    config = clone_run_config(run_id)
    return JSON({"wizard": wizard_form(config, settings_of(request))})


__all__ = ["router"]
