"""Training dashboard: the live loss chart, progress, elapsed and remaining time, tokens/s, gauges,
banners from the guards with their actions, pause and resume, and the state at a pause.

Updates from the controller are throttled with `Clock.create_trigger`: a burst of changes redraws once.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import StringProperty

from app import presenting as say
from app.screens.base import BaseScreen, load_kv
from app.widgets.banner import Banner

load_kv(__file__)

#: At most this many redraws per second, however fast metrics arrive.
REDRAW_INTERVAL = 0.5

STATUS_WORDS = {
    "": "Starting...", "queued": "Starting: loading the model and the data", "running": "Training",
    "pausing": "Pausing after this step...", "paused": "Paused", "completed": "Finished",
    "failed": "Stopped by a problem",
}


class DashboardScreen(BaseScreen):
    status_text = StringProperty("")
    button_text = StringProperty("Pause")

    def setup(self) -> None:
        self._trigger = Clock.create_trigger(self.refresh, REDRAW_INTERVAL)
        self._chart_trigger = Clock.create_trigger(self.refresh_chart, REDRAW_INTERVAL)
        self.ctrl.bind(run_status=self._trigger, step=self._trigger, total_steps=self._trigger,
                       elapsed_seconds=self._trigger, remaining=self._trigger, tokens_per_second=self._trigger,
                       reading=self._trigger, pause_info=self._trigger, run_busy=self._trigger,
                       summary=self._trigger, loss_points=self._chart_trigger, val_points=self._chart_trigger,
                       banners=self.refresh_banners)
        self.redraws = 0
        self.refresh()

    def refresh_chart(self, *_: Any) -> None:
        self.ids.chart.update(self.ctrl.loss_points, self.ctrl.val_points, self.ctrl.total_steps)
        self.redraws += 1

    def refresh(self, *_: Any) -> None:
        c = self.ctrl
        status = c.run_status
        self.status_text = STATUS_WORDS.get(status, status)
        self.button_text = {"running": "Pause", "queued": "Pause", "pausing": "Pausing...", "paused": "Resume",
                            "failed": "Resume", "completed": "Open playground"}.get(status, "Pause")
        ids = self.ids
        ids.pause_button.disabled = c.run_busy or status in ("pausing", "")
        ids.progress.value = c.progress * 100
        ids.step_text.text = f"Step {c.step:,} of {c.total_steps:,}" if c.total_steps else "Preparing..."
        ids.elapsed.text = say.duration(c.elapsed_seconds)
        if c.remaining is None:
            ids.remaining.text = "estimating..." if status in ("running", "queued") else "–"
        else:
            seconds, low, high = c.remaining
            spread = f"  ({say.duration(low)} to {say.duration(high)})" if say.duration(low) != say.duration(high) else ""
            ids.remaining.text = f"{say.duration(seconds)}{spread}" if status != "completed" else "done"
        ids.speed.text = f"{c.tokens_per_second:,.0f} tokens/s" if c.tokens_per_second else "–"
        reading = c.pause_info.get("resources") if status == "paused" and c.pause_info.get("resources") else c.reading
        for name, (value, detail) in say.gauge_values(reading or {}).items():
            ids[f"gauge_{name}"].value = value
            ids[f"gauge_{name}"].detail = detail
        ids.paused_text.plain = self._paused_text() if status == "paused" else ""
        ids.finished_text.plain = self._finished_text() if status == "completed" else ""

    def _paused_text(self) -> str:
        p = self.ctrl.pause_info
        if not p:
            return "Paused. Nothing is lost: Resume continues exactly where it stopped."
        res = p.get("resources") or {}
        used = f" At the pause the computer used {res.get('cpu_percent', 0):.0f}% of its processor and " \
               f"{say.gb(res.get('ram_used_bytes', 0))} of memory." if res else ""
        low, high = p.get("remaining_low_seconds"), p.get("remaining_high_seconds")
        left = f"{say.duration(low)} to {say.duration(high)}" if low is not None and high is not None else \
            say.duration(p.get("remaining_seconds"))
        return (f"Paused at step {p.get('step', 0)} after {say.duration(p.get('elapsed_seconds'))} of training; "
                f"about {left} remain.{used} The checkpoint is saved and the memory was freed: Resume continues "
                f"exactly where it stopped.")

    def _finished_text(self) -> str:
        s = self.ctrl.summary
        val = s.get("final_val_loss")
        loss = s.get("final_loss")
        took = say.duration(s.get("duration_seconds", self.ctrl.elapsed_seconds))
        parts = [f"Training finished after {s.get('steps', self.ctrl.step)} steps in {took}."]
        if loss is not None:
            parts.append(f"Final loss {loss:.3f}" + (f", validation loss {val:.3f}." if val is not None else "."))
        if s.get("adapter_path"):
            parts.append(f"The adapter is saved in {s['adapter_path']}.")
        quality = say.quality_words(s.get("quality"))
        return " ".join(parts) + (f"\n\n{quality}" if quality else "")

    def toggle_pause(self) -> None:
        if self.ctrl.run_status == "completed":
            self.ctrl.open_run_in_playground(self.ctrl.run_id)
        elif self.ctrl.run_status in ("paused", "failed"):
            self.ctrl.resume()
        elif self.ctrl.run_status in ("running", "queued"):
            self.ctrl.pause()

    def open_notifications(self) -> Any:
        from app.widgets.notification_settings import NotificationSettings

        dialog = NotificationSettings(ctrl=self.ctrl)
        dialog.open()
        return dialog

    def refresh_banners(self, *_: Any) -> None:
        box = self.ids.banners
        box.clear_widgets()
        for b in self.ctrl.banners:
            actions = [*b["actions"], {"label": "Dismiss", "dismiss": True}]
            banner = Banner(title=b["title"], message=b["message"], advice=b.get("advice", ""),
                            severity=b["severity"], actions=actions)
            banner.bind(on_action=lambda _w, action, bid=b["id"]: self.banner_action(bid, action))
            box.add_widget(banner)

    def banner_action(self, banner_id: int, action: dict[str, Any]) -> None:
        if action.get("dismiss") or self.ctrl.apply_banner_action(action):
            self.ctrl.dismiss_banner(banner_id)
        elif action.get("steps"):
            from app.screens.errors.errors import show_steps

            show_steps(action["label"], action["steps"])
