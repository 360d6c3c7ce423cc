"""The controller's part for run comparison (table, shared charts, clone into the wizard).

The table lists every completed run (`compare_rows`, sorted by `compare_sort`); choosing 2 to 5 of
them (`toggle_compared`) asks the library for a `Comparison`: their metrics aligned on shared axes,
the best run per metric and per column, and the settings that differ. "Train again with these
settings" is `clone_into_wizard`.

Example:
    >>> toggled(["a", "b"], "a"), toggled(["a"], "b"), toggled(list("abcde"), "f")
    (['b'], ['a', 'b'], ['a', 'b', 'c', 'd', 'e'])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

#: How many runs can be compared at once (`peftstudio.history.compare.MIN_COMPARED` / `MAX_COMPARED`).
MIN_RUNS, MAX_RUNS = 2, 5


def toggled(chosen: list[str], run_id: str, limit: int = MAX_RUNS) -> list[str]:
    """`chosen` with `run_id` removed if it was there, else added (unless `limit` runs are chosen already)."""
    if run_id in chosen:
        return [r for r in chosen if r != run_id]
    return [*chosen, run_id] if len(chosen) < limit else list(chosen)


class CompareControl:
    """Properties and actions for run comparison (table, shared charts, clone into the wizard); mixed into `app.controller.Controller`."""

    compare_rows = ListProperty([])  # RunTableRow records of the completed runs, sorted
    compare_sort = StringProperty("date")
    compare_descending = BooleanProperty(True)
    compare_chosen = ListProperty([])  # run ids, in the order they were chosen (their colours follow it)
    comparison = ObjectProperty(None, allownone=True)  # Comparison of the chosen runs (2-5), else None
    compare_busy = BooleanProperty(False)
    compare_axis = StringProperty("step")  # "step" or "tokens": the charts' horizontal axis
    _compare_query = 0

    if TYPE_CHECKING:  # what the Controller this is mixed into provides
        store: Any

        def background(self, work: Callable[[], Any], done: Callable[[Any], None] | None = None,
                       failed: Callable[[BaseException], None] | None = None) -> Any: ...
        def fail(self, exc: BaseException | Any, retry: Callable[[], None] | None = None) -> None: ...
        def fill_wizard(self, config: Any, *, data_path: str = "") -> str: ...

    def refresh_runs(self) -> None:
        """Read the completed runs from the store (in the background) and sort them."""
        store = self.store

        def work() -> list[Any]:
            from peftstudio.history import runs_table

            return runs_table(store=store)

        def done(rows: list[Any]) -> None:
            ids = {r.run_id for r in rows}
            self.compare_rows = self._sorted(rows)
            kept = [r for r in self.compare_chosen if r in ids]
            if kept != list(self.compare_chosen):
                self.compare_chosen = kept
                self._compare_chosen()

        self.background(work, done)

    def _sorted(self, rows: list[Any]) -> list[Any]:
        from peftstudio.history.compare import sort_rows

        return sort_rows(rows, self.compare_sort, descending=self.compare_descending)

    def sort_runs(self, column: str) -> None:
        """Sort the table by `column` (a key of `peftstudio.history.COLUMNS`); the same column again flips it."""
        from peftstudio.history import COLUMNS

        if column not in COLUMNS:
            raise ValueError(f"unknown column {column!r}; expected one of {', '.join(COLUMNS)}")
        if column == self.compare_sort:
            self.compare_descending = not self.compare_descending
        else:
            self.compare_sort = column
            # the best first: newest date, lowest loss/time/cost, highest quality/speed, names A-Z
            self.compare_descending = column == "date" or COLUMNS[column] is False
        self.compare_rows = self._sorted(list(self.compare_rows))

    def toggle_compared(self, run_id: str) -> bool:
        """Choose or un-choose a run for the comparison; False when 5 are chosen already."""
        chosen = toggled(list(self.compare_chosen), run_id)
        if chosen == list(self.compare_chosen):
            return False
        self.compare_chosen = chosen
        self._compare_chosen()
        return True

    def set_compare_axis(self, axis: str) -> None:
        if axis not in ("step", "tokens"):
            raise ValueError(f"unknown axis {axis!r}; expected step or tokens")
        self.compare_axis = axis

    def _compare_chosen(self) -> None:
        self._compare_query += 1
        query, chosen, store = self._compare_query, list(self.compare_chosen), self.store
        if not MIN_RUNS <= len(chosen) <= MAX_RUNS:
            self.comparison = None
            self.compare_busy = False
            return
        self.compare_busy = True

        def work() -> Any:
            from peftstudio.history import compare_runs

            return compare_runs(chosen, store=store)

        def done(comparison: Any) -> None:
            if query == self._compare_query:
                self.compare_busy = False
                self.comparison = comparison

        def failed(exc: BaseException) -> None:
            self.compare_busy = False
            self.fail(exc)

        self.background(work, done, failed)

    def clone_into_wizard(self, run_id: str) -> None:
        """Prefill the wizard with the run's settings (profile, model, data, every setting) and show it."""
        store = self.store

        def work() -> Any:
            from peftstudio.history import clone_run_config

            return clone_run_config(run_id, store=store)

        def done(config: Any) -> None:
            from pathlib import Path

            data = config.data.path if config.data.path and Path(config.data.path).is_file() else ""
            self.fill_wizard(config, data_path=data)  # PresetsControl: the same way a preset is applied

        self.background(work, done)
