"""The controller's part for a model's version timeline (activate, archive, delete, disk space).

Every completed run becomes the next version of its model line (the library records it); this part
lists a line's versions with their metrics and the change from the previous one, and lets the user
load one in the playground, compare two, make one active, archive, restore or delete one. When an
operation lacks disk space, `space_prompt` lists what could be archived or deleted and what each frees.

`disk_free_bytes` stands in for the free space the disk reports (None: measure it), so the prompt can
be shown on a machine with plenty of space; archiving or deleting then adds what it freed.

Example:
    >>> from app.controller import Controller
    >>> ctrl = Controller(disk_free_bytes=10 * 2**20)
    >>> ctrl.disk_free_bytes, ctrl.versions
    (10485760, [])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty

from app import colours as theme  # (no Kivy metrics: the controller opens no window)
from app import present_versions as words

#: Colours of a metric's change on the timeline (better, worse).
CHANGE_COLOURS = {"better": theme.hex_colour(theme.GOOD), "worse": theme.hex_colour(theme.WARN)}


class VersionsControl:
    """Properties and actions for a model's version timeline (activate, archive, delete, disk space); mixed into `app.controller.Controller`."""

    version_lines = ListProperty([])  # the model lines that have versions
    versions_line = StringProperty("")  # the line shown
    versions = ListProperty([])  # rows of the timeline, newest first (see `present_versions.version_row`)
    versions_busy = BooleanProperty(False)
    versions_message = StringProperty("")  # what the last action did, in plain words
    version_compare_pick = StringProperty("")  # the version picked first for a comparison
    version_comparison = ObjectProperty(None, allownone=True)  # `present_versions.comparison` dict
    version_confirm_delete = StringProperty("")  # the version whose Delete was tapped once
    space_prompt = ObjectProperty(None, allownone=True)  # `present_versions.space_prompt` dict
    disk_free_bytes = ObjectProperty(None, allownone=True)  # injected free space (None: ask the disk)

    # ------------------------------------------------------------------ the timeline
    def open_versions(self, model: str = "") -> None:
        """Show the versions of `model` (a line, or a base model reference; "" for the first line)."""
        self.version_compare_pick = ""
        self.version_comparison = None
        self.version_confirm_delete = ""
        self.refresh_versions(model)
        self.show("versions")  # type: ignore[attr-defined]

    def refresh_versions(self, model: str = "") -> None:
        """Read the lines and the shown line's timeline again (in the background)."""
        wanted = model or self.versions_line
        self.versions_busy = True

        def work() -> tuple[list[str], str, list[dict[str, Any]]]:
            from peftstudio.history import lines

            names = lines(store=self.store)  # type: ignore[attr-defined]
            line = _pick_line(names, wanted)
            return names, line, self._timeline_rows(line) if line else []

        def done(result: tuple[list[str], str, list[dict[str, Any]]]) -> None:
            self.versions_busy = False
            self.version_lines, self.versions_line, self.versions = result

        self.background(work, done, self._versions_failed)  # type: ignore[attr-defined]

    def choose_version_line(self, line: str) -> None:
        self.version_compare_pick = ""
        self.version_comparison = None
        self.refresh_versions(line)

    def _timeline_rows(self, line: str) -> list[dict[str, Any]]:
        from peftstudio.history import lower_is_better, timeline

        entries = timeline(line, store=self.store)  # type: ignore[attr-defined]
        labels = {e.version.id: e.version.label for e in entries}
        rows = [words.version_row(e, lower_is_better, previous_label=labels.get(e.previous_id or "", ""),
                                  colours=CHANGE_COLOURS) for e in entries]
        return rows[::-1]  # newest first: the latest version is what people look for

    def _versions_failed(self, exc: BaseException) -> None:
        self.versions_busy = False
        self.fail(exc)  # type: ignore[attr-defined]

    def _row(self, version_id: str) -> dict[str, Any]:
        return next((r for r in self.versions if r["id"] == version_id), {"id": version_id, "label": version_id})

    # ------------------------------------------------------------------ actions on one version
    def version_to_playground(self, version_id: str) -> None:
        """Load the version's run in the playground (its tuned model beside the base)."""
        row = self._row(version_id)
        if row.get("run_id"):
            self.open_run_in_playground(row["run_id"])  # type: ignore[attr-defined]

    def activate_version(self, version_id: str) -> None:
        """Make a version the one exports and the playground use by default for its line."""
        from peftstudio.history import set_active

        self._change(lambda: set_active(version_id, store=self.store),  # type: ignore[attr-defined]
                     lambda v: f"{v.label} is now the active version.")

    def archive_version(self, version_id: str) -> None:
        """Compress a version into one file (restore brings it back unchanged)."""
        from peftstudio.history import archive_version

        before = int(self._row(version_id).get("size_bytes", 0))
        self._change(lambda: archive_version(version_id, store=self.store),  # type: ignore[attr-defined]
                     lambda v: f"{v.label} is archived: {words.size(before)} became {words.size(v.size_bytes)}.",
                     lambda v: before - v.size_bytes)

    def restore_version(self, version_id: str) -> None:
        from peftstudio.history import restore_version

        before = int(self._row(version_id).get("size_bytes", 0))
        self._change(lambda: restore_version(version_id, store=self.store),  # type: ignore[attr-defined]
                     lambda v: f"{v.label} is restored and ready to use.", lambda v: before - v.size_bytes)

    def delete_version(self, version_id: str) -> None:
        """First tap asks (`version_confirm_delete`); the second deletes the version's files."""
        if self.version_confirm_delete != version_id:
            self.version_confirm_delete = version_id
            return
        from peftstudio.history import delete_version

        # the library returns the version as it was before deletion: its size is what was freed
        self._change(lambda: delete_version(version_id, store=self.store),  # type: ignore[attr-defined]
                     lambda v: f"{v.label} is deleted and {words.size(v.size_bytes)} freed; its metrics stay "
                               "in the history.", lambda v: v.size_bytes)

    def cancel_delete(self) -> None:
        self.version_confirm_delete = ""

    def _change(self, work: Callable[[], Any], message: Callable[[Any], str],
                freed: Callable[[Any], int] | None = None) -> None:
        """Run one change in the background, then say what it did and read the timeline (and prompt) again."""
        self.versions_busy = True
        self.version_confirm_delete = ""

        def done(version: Any) -> None:
            self.versions_message = message(version)
            if self.disk_free_bytes is not None and freed is not None:  # the injected disk gains what was freed
                self.disk_free_bytes = self.disk_free_bytes + freed(version)
            self.refresh_versions()
            if self.space_prompt is not None:  # the prompt shows what is left to clear
                (self._relist_space if self.space_prompt.get("unknown_need") else self._recheck_space)()

        self.background(work, done, self._versions_failed)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ comparing two versions
    def pick_version_to_compare(self, version_id: str) -> None:
        """The first tap picks a version; a tap on another compares the two (the older one first)."""
        first = self.version_compare_pick
        if not first or first == version_id:
            self.version_compare_pick = "" if first == version_id else version_id
            return
        self.version_compare_pick = ""
        order = [r["id"] for r in self.versions][::-1]  # oldest first
        a, b = sorted((first, version_id), key=lambda v: order.index(v) if v in order else 0)
        self.compare_two_versions(a, b)

    def compare_two_versions(self, a: str, b: str) -> None:
        """Compare versions `a` and `b`: each metric's change and the settings that differ."""

        def work() -> dict[str, Any]:
            from peftstudio.history import compare_versions, lower_is_better

            return words.comparison(compare_versions(a, b, store=self.store), lower_is_better)  # type: ignore[attr-defined]

        def done(result: dict[str, Any]) -> None:
            self.version_comparison = result

        self.background(work, done, self._versions_failed)  # type: ignore[attr-defined]

    def close_version_comparison(self) -> None:
        self.version_comparison = None

    # ------------------------------------------------------------------ disk space
    def check_disk_space(self, needed_bytes: int, what: str = "", *, margin_bytes: int | None = None,
                         retry: Callable[[], None] | None = None) -> None:
        """Check that `needed_bytes` fit; when not, `space_prompt` lists the versions to archive or delete
        and the versions screen shows it. `retry` is what "Try again" does once there is room."""
        self._space_need = (needed_bytes, what, margin_bytes)
        self._space_retry = retry
        self._recheck_space(show=True)

    def _recheck_space(self, show: bool = False) -> None:
        needed, what, margin = getattr(self, "_space_need", (0, "", None))
        free = self.disk_free_bytes

        def work() -> dict[str, Any] | None:
            from peftstudio.history import check_space

            prompt = check_space(needed, free, margin_bytes=margin, store=self.store)  # type: ignore[attr-defined]
            return words.space_prompt(prompt, what) if prompt is not None else None

        def done(prompt: dict[str, Any] | None) -> None:
            if prompt is None and self.space_prompt is None:
                return  # enough space and no prompt open: nothing to say
            self.space_prompt = prompt or words.space_enough(what)
            if show:
                self.refresh_versions()
                self.show("versions")  # type: ignore[attr-defined]

        self.background(work, done, self._versions_failed)  # type: ignore[attr-defined]

    def space_prompt_for(self, info: Any, retry: Callable[[], None] | None = None) -> bool:
        """Open the disk prompt for a ``disk_full`` error that says how much it needs; False otherwise."""
        details = getattr(info, "details", {}) or {}
        if getattr(info, "code", "") != "disk_full" or "needed_bytes" not in details:
            return False
        self.check_disk_space(int(details["needed_bytes"]), str(details.get("what", "")), margin_bytes=0,
                              retry=retry)
        return True

    def free_space(self, info: Any = None, retry: Callable[[], None] | None = None) -> None:
        """What the ``disk_full`` error's "Archive or delete old model versions" action does: the prompt
        with the error's figures, or, from an error without them (the disk filled up while writing),
        every version that could be cleared."""
        if info is not None and self.space_prompt_for(info, retry):
            return
        what = str((getattr(info, "details", {}) or {}).get("what", "") or "")
        self._space_need = (0, what, 0)
        self._space_retry = retry
        self._relist_space(show=True)

    def _relist_space(self, show: bool = False) -> None:
        what = getattr(self, "_space_need", (0, "", 0))[1]

        def work() -> dict[str, Any]:
            from peftstudio.history import check_space

            # one byte short of an empty disk: every inactive version is listed, none marked as enough
            listing = check_space(1, 0, margin_bytes=0, store=self.store)  # type: ignore[attr-defined]
            return words.space_listing(listing, what)

        def done(prompt: dict[str, Any]) -> None:
            self.space_prompt = prompt
            if show:
                self.refresh_versions()
                self.show("versions")  # type: ignore[attr-defined]

        self.background(work, done, self._versions_failed)  # type: ignore[attr-defined]

    def space_try_again(self) -> None:
        """Close the prompt and do again what lacked space."""
        retry = getattr(self, "_space_retry", None)
        self.space_prompt = None
        self._space_retry = None
        if retry is not None:
            retry()

    def dismiss_space_prompt(self) -> None:
        self.space_prompt = None
        self._space_retry = None


def _pick_line(names: list[str], wanted: str) -> str:
    """The line to show: `wanted` itself, else the first line of the model `wanted`, else the first.

    Example:
        >>> _pick_line(["a [chat]", "b [chat]"], "b"), _pick_line(["a [chat]"], "zzz"), _pick_line([], "a")
        ('b [chat]', 'a [chat]', '')
    """
    if wanted in names:
        return wanted
    return next((n for n in names if wanted and n.startswith(wanted + " [")), names[0] if names else "")
