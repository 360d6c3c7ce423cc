"""Versions: a model line's versions as a timeline (newest first) with their metrics and the change from
the previous one; per version: open in the playground, compare with another, set as active, archive or
restore, delete (each button shows the size it concerns). A disk-space prompt, when an operation lacks
room, lists the versions that could be archived or deleted and what each frees.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, DictProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from app import theme
from app.screens.base import BaseScreen, load_kv
from app.widgets.action_button import StudioButton
from app.widgets.text import Body

load_kv(__file__)


class VersionRow(BoxLayout):
    """One version: label, ACTIVE badge, date and size, metrics with their change, and its buttons."""

    row = DictProperty({})
    picked = BooleanProperty(False)  # picked first for a comparison


class SpacePromptPanel(BoxLayout):
    """The disk prompt: the shortfall, and per candidate an Archive and a Delete button with what it frees."""

    prompt = DictProperty({})


class ComparisonPanel(BoxLayout):
    """Two versions compared: metric changes and the settings that differ."""

    result = DictProperty({})


class VersionsScreen(BaseScreen):
    pick_text = StringProperty("")

    def setup(self) -> None:
        self._trigger = Clock.create_trigger(self.refresh, 0)
        self.ctrl.bind(versions=self._trigger, version_compare_pick=self._trigger,
                       version_confirm_delete=self._trigger, versions_busy=self._trigger,
                       space_prompt=self._trigger, version_comparison=self._trigger,
                       versions_message=self._trigger)
        self.refresh()

    def on_pre_enter(self, *_: Any) -> None:
        if not self.ctrl.versions and not self.ctrl.versions_busy:
            self.ctrl.refresh_versions()

    def go_home(self) -> None:
        self.go("home" if self.manager is not None and "home" in self.manager.screen_names else "welcome")

    def line_chosen(self, text: str) -> None:
        if text in self.ctrl.version_lines and text != self.ctrl.versions_line:
            self.ctrl.choose_version_line(text)

    # ------------------------------------------------------------------ drawing
    def refresh(self, *_: Any) -> None:
        c = self.ctrl
        picked = next((r["label"] for r in c.versions if r["id"] == c.version_compare_pick), "")
        self.pick_text = f"Now tap Compare on the version to compare {picked} with." if picked else ""
        self._draw_rows()
        box = self.ids.notices  # only what has something to say: empty parts would leave gaps
        box.clear_widgets()
        if c.versions_message:
            box.add_widget(Factory.NoticeText(text=c.versions_message, color=theme.GOOD))
        self._draw_prompt(box)
        self._draw_comparison(box)
        if self.pick_text:
            box.add_widget(Factory.NoticeText(text=self.pick_text, color=theme.ACCENT))
        if not c.versions and not c.versions_busy:
            box.add_widget(Body(plain="No model versions yet: each finished training becomes one."))

    def _draw_rows(self) -> None:
        box = self.ids.rows
        box.clear_widgets()
        for row in self.ctrl.versions:
            widget = VersionRow(row=row, picked=row["id"] == self.ctrl.version_compare_pick)
            for text, kind, action, enabled in self._buttons(row):
                button = StudioButton(text=text, kind=kind, disabled=not enabled or self.ctrl.versions_busy)
                button.bind(on_release=lambda _b, a=action, vid=row["id"]: a(vid))
                widget.ids.buttons.add_widget(button)
            box.add_widget(widget)

    def _buttons(self, row: dict[str, Any]) -> list[tuple[str, str, Any, bool]]:
        c = self.ctrl
        pick = c.version_compare_pick
        compare = ("Cancel compare" if pick == row["id"] else
                   f"Compare with {next((r['label'] for r in c.versions if r['id'] == pick), '')}" if pick
                   else "Compare")
        asking = c.version_confirm_delete == row["id"]
        buttons: list[tuple[str, str, Any, bool]] = [
            ("Open in playground", "primary", c.version_to_playground, row["can_use"]),
            (compare, "secondary", c.pick_version_to_compare, len(c.versions) > 1),
            ("Active" if row["active"] else "Set as active", "good" if row["active"] else "secondary",
             c.activate_version, row["can_activate"]),
        ]
        if row["can_restore"]:
            buttons.append((f"Restore ({row['size']})", "secondary", c.restore_version, True))
        else:
            buttons.append((f"Archive ({row['size']})", "secondary", c.archive_version, row["can_archive"]))
        buttons.append((f"Really delete {row['label']}?" if asking else f"Delete ({row['size']})", "danger",
                        c.delete_version, row["can_delete"]))
        if asking:
            buttons.append(("Keep it", "secondary", lambda _vid: c.cancel_delete(), True))
        return buttons

    def _draw_prompt(self, box: Any) -> None:
        prompt = self.ctrl.space_prompt
        if not prompt:
            return
        panel = SpacePromptPanel(prompt=prompt)
        busy = self.ctrl.versions_busy
        for cand in prompt.get("candidates", []):
            line = BoxLayout(orientation="vertical", size_hint_y=None, spacing=6)
            line.bind(minimum_height=line.setter("height"))
            line.add_widget(Body(plain=cand["text"] + ("   (suggested)" if cand["suggested"] else "")))
            buttons = BoxLayout(size_hint_y=None, height=theme.TOUCH, spacing=10)
            if cand["archive"]:
                b = StudioButton(text=cand["archive"], disabled=busy)
                b.bind(on_release=lambda _b, vid=cand["id"]: self.ctrl.archive_version(vid))
                buttons.add_widget(b)
            d = StudioButton(text=cand["delete"], kind="danger", disabled=busy)
            d.bind(on_release=lambda _b, vid=cand["id"]: self._delete_now(vid))
            buttons.add_widget(d)
            buttons.add_widget(BoxLayout())
            line.add_widget(buttons)
            panel.ids.candidates.add_widget(line)
        if prompt.get("enough") or prompt.get("unknown_need"):
            again = StudioButton(text="Try again", kind="primary")
            again.bind(on_release=lambda _b: self.ctrl.space_try_again())
            panel.ids.footer.add_widget(again)
        close = StudioButton(text="Close")
        close.bind(on_release=lambda _b: self.ctrl.dismiss_space_prompt())
        panel.ids.footer.add_widget(close)
        box.add_widget(panel)

    def _delete_now(self, version_id: str) -> None:
        """The prompt's Delete button says what it frees: one tap is the confirmation."""
        self.ctrl.version_confirm_delete = version_id
        self.ctrl.delete_version(version_id)

    def _draw_comparison(self, box: Any) -> None:
        result = self.ctrl.version_comparison
        if not result:
            return
        panel = ComparisonPanel(result=result)
        close = StudioButton(text="Close comparison")
        close.bind(on_release=lambda _b: self.ctrl.close_version_comparison())
        panel.add_widget(close)
        box.add_widget(panel)
