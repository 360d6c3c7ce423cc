"""The comparison screen with real touches on three real builtin:tiny-llama runs: sort the table, choose the
three runs, see them on shared charts with the best run marked, the settings that differ, and "Train again
with these settings" opening the wizard prefilled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.widgets.compare_chart import CompareChart
from peftstudio import open_store
from tests.app.harness import Ui, frames, probed_ui
from tests.app.helpers import finished_runs


@pytest.fixture()
def ui() -> Iterator[Ui]:
    with probed_ui() as ui:
        yield ui


def table_rows(ui: Ui) -> list[Any]:
    return list(reversed(ui.screen.ids.rows.children))


def header(ui: Ui, key: str) -> Any:
    return next(b for cell in ui.screen.ids.header.children for b in cell.children
                if getattr(b, "sort_key", None) == key)


def scroll_down_to(ui: Ui, widget: Any) -> None:
    """Scroll so `widget`'s top is at the top of the screen's scrolling part (as far as it goes)."""
    scroll = ui.screen.ids.scroll
    content = scroll.children[0]
    hidden = content.height - scroll.height
    if hidden > 0:
        top = widget.to_window(widget.x, widget.top)[1] - content.to_window(content.x, content.y)[1]
        scroll.scroll_y = min(max((top + 10 - scroll.height) / hidden, 0.0), 1.0)
    frames(4)


@pytest.mark.slow
def test_compare_three_runs_and_clone_one_into_the_wizard(ui: Ui) -> None:
    ctrl = ui.ctrl
    store = open_store()
    ids = finished_runs(store, 3)
    lr = {rid: store.get_run(rid).config.training.learning_rate for rid in ids}
    ctrl.show("compare")
    ui.wait(lambda: ui.root.current == "compare" and len(table_rows(ui)) == 3, 30, "the runs table")

    ui.tap(header(ui, "final_val_loss"))
    ui.wait(lambda: ctrl.compare_sort == "final_val_loss", 5, "sorting")
    losses = [r.final_val_loss for r in ctrl.compare_rows]
    assert losses == sorted(losses)
    assert [r.run_id for r in table_rows(ui)] == [r.run_id for r in ctrl.compare_rows]
    assert "\u2191" in header(ui, "final_val_loss").text
    ui.tap(header(ui, "final_val_loss"))  # again: the other way round
    assert [r.final_val_loss for r in ctrl.compare_rows] == sorted(losses, reverse=True)

    for i in range(3):
        ui.tap(table_rows(ui)[i])
    ui.wait(lambda: ctrl.comparison is not None and len(ctrl.comparison.run_ids) == 3 and not ctrl.compare_busy,
            60, "the comparison")
    best = ctrl.comparison.best["final_val_loss"]
    assert best == min(ctrl.compare_rows, key=lambda r: r.final_val_loss).run_id
    ui.wait(lambda: ui.find(CompareChart), 10, "the charts")
    row = next(r for r in table_rows(ui) if r.run_id == best)
    marked = [c for c in row.ids.cells.children if getattr(c, "best", False)]
    assert marked and all("best" in c.text for c in marked)
    assert all(not getattr(c, "best", False) for r in table_rows(ui) if r.run_id != best
               for c in r.ids.cells.children if c in marked)
    ui.shot("34-compare")

    charts = {c.metric: c for c in ui.find(CompareChart)}
    assert {"loss", "val_loss", "tokens_per_second"} <= set(charts) and "eta_seconds" not in charts
    names = {r.run_id: r.name for r in ctrl.comparison.rows}
    val = charts["val_loss"]
    assert val.best_name == names[best] and names[best] in val.subtitle and "lower is better" in val.subtitle
    assert sum(len(p.points) > 0 for p in val.graph.plots) >= 3  # every run drawn
    scroll_down_to(ui, ui.screen.chart_grid)
    ui.shot("35-compare-charts")

    diffs = {w.setting: w.values for w in ui.screen.ids.comparison.children
             if w.__class__.__name__ == "DifferenceRow"}
    assert "Learning rate" in diffs and all(names[rid] in diffs["Learning rate"] for rid in ids)
    clone = next(w for w in ui.screen.ids.comparison.children if getattr(w, "run_id", None) == best)
    scroll_down_to(ui, clone)
    ui.shot("36-compare-differences")
    ui.tap(clone.ids.again_button)
    ui.wait(lambda: ui.root.current == "review" and ctrl.plan is not None and not ctrl.data_busy, 120,
            "the wizard, prefilled")
    assert ctrl.overrides["learning_rate"] == lr[best] and ctrl.plan.value("learning_rate") == lr[best]
    assert ctrl.plan.value("max_steps") == 4 and ctrl.model_ref == "builtin:tiny-llama"
    assert ctrl.data_path == store.get_run(best).config.data.path
    ui.shot("37-compare-train-again")
