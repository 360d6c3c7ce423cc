"""The controller's part for the home screen (recent runs, resume, ways into the rest of the app).

The home screen lists the newest runs from the store with their status (a run whose worker died is
noticed by `peftstudio.engine.run_status` and shown as stopped), and offers per run what fits its
status: Resume (the library's `resume_run`) for a paused or stopped run, the dashboard for a run
in progress, the playground and the export screen for a finished one.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty

from app import present_home as home_words

#: Where the home screen's big buttons lead (screen names agreed between the parts of the app).
HOME_DESTINATIONS = {"new": "welcome", "presets": "presets", "compare": "compare", "versions": "versions"}


class HomeControl:
    """Properties and actions for the home screen; mixed into `app.controller.Controller`."""

    recent_runs = ListProperty([])  # `present_home.run_row` dicts, newest first
    home_loaded = BooleanProperty(False)

    def refresh_home(self) -> None:
        """Read the newest runs from the store (in the background) into `recent_runs`."""
        store = self.store  # type: ignore[attr-defined]

        def work() -> list[dict[str, Any]]:
            from peftstudio.engine import run_status

            rows = []
            for run in store.list_runs()[:home_words.RECENT]:
                if run.status in ("queued", "running"):
                    run = run_status(run.id, store)  # a worker that died meanwhile: the run is stopped
                rows.append(home_words.run_row(run))
            return rows

        def done(rows: list[dict[str, Any]]) -> None:
            self.recent_runs = rows
            self.home_loaded = True

        self.background(work, done)  # type: ignore[attr-defined]

    def go_home(self) -> None:
        """Show the home screen with fresh run statuses."""
        self.refresh_home()
        self.show("home")  # type: ignore[attr-defined]

    def home_go(self, where: str) -> None:
        """One of the home screen's big buttons: ``new``, ``presets``, ``compare`` or ``versions``."""
        if where == "versions" and hasattr(self, "open_versions"):
            self.open_versions()
            return
        self.show(HOME_DESTINATIONS[where])  # type: ignore[attr-defined]

    def run_action(self, run_id: str, action: str) -> None:
        """A run's button on the home screen (``playground``, ``export``, ``resume``, ``dashboard``)."""
        if action == "playground":
            self.open_run_in_playground(run_id)  # type: ignore[attr-defined]
        elif action == "export":
            if hasattr(self, "open_export"):
                self.open_export(run_id)
            else:
                self.show("export")  # type: ignore[attr-defined]
        elif action == "resume":
            self.resume_run_from_home(run_id)
        elif action == "dashboard":
            self.follow(run_id)  # type: ignore[attr-defined]
            self.show("dashboard")  # type: ignore[attr-defined]
        else:
            raise ValueError(f"unknown run action {action!r}; expected one of playground, export, resume, dashboard")

    def resume_run_from_home(self, run_id: str) -> None:
        """Continue a paused or stopped run from its last checkpoint (the library's `resume_run`), then
        follow it on the dashboard."""
        store = self.store  # type: ignore[attr-defined]
        self.run_busy = True  # type: ignore[attr-defined]

        def work() -> str:
            from peftstudio.engine import resume_run

            return str(resume_run(run_id, store))

        def done(resumed: str) -> None:
            self.follow(resumed)  # type: ignore[attr-defined]
            self.show("dashboard")  # type: ignore[attr-defined]

        def failed(exc: BaseException) -> None:
            self.run_busy = False  # type: ignore[attr-defined]
            self.fail(exc, retry=lambda: self.resume_run_from_home(run_id))  # type: ignore[attr-defined]

        self.background(work, done, failed)  # type: ignore[attr-defined]
