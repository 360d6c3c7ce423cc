"""Review: how long the run takes (a range), GPU-hours, energy, electricity cost at the user's rate, CO2,
and the alternatives with a button to switch to one. Every figure follows the plan as it changes."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from app import presenting as say
from app.screens.base import WizardScreen, load_kv

load_kv(__file__)


class Figure(BoxLayout):
    title = StringProperty("")
    value = StringProperty("")
    note = StringProperty("")


class AlternativeRow(BoxLayout):
    title = StringProperty("")
    description = StringProperty("")


def figures(plan: Any) -> dict[str, tuple[str, str]]:
    """Figure id -> (value, note) for the review cards."""
    e = plan.estimates
    d = e.duration_seconds
    rate_note = "your rate" if e.electricity_rate_source == "user" else "a typical household rate; enter yours"
    gpu_hours = (f"{e.gpu_hours.min:.2f} to {e.gpu_hours.max:.2f}", "hours of one GPU's time") if plan.device == "cuda" \
        else ("none", "trains on the processor")
    return {
        "duration": (say.duration_range(d.min, d.max), f"{e.steps:,} steps over {e.tokens:,} tokens"),
        "gpu_hours": gpu_hours,
        "energy": (say.energy(e.energy_kwh.min, e.energy_kwh.max),
                   "the whole computer, not only the chip"),
        "cost": (say.money(e.electricity_cost.min, e.electricity_cost.max, e.currency),
                 f"at {say.number(e.electricity_rate)} per kWh ({rate_note})"),
        "co2": (f"{say.number(e.co2_kg.min * 1000, 2)} to {say.number(e.co2_kg.max * 1000, 2)} g CO2",
                f"at {e.grid_intensity:g} kg per kWh" + (" (world average)" if e.grid_intensity_source == "default"
                                                          else "")),
        "memory": (say.gb(plan.memory.estimated_peak_bytes),
                   f"of {say.gb(plan.memory.available_bytes)} on {plan.device_name}"),
    }


class ReviewScreen(WizardScreen):
    def setup(self) -> None:
        self.next_text = "Start training"
        self.ctrl.bind(plan=self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        plan = self.ctrl.plan
        self.next_enabled = plan is not None and plan.memory.fits and bool(self.ctrl.data_path)
        self.hint = "" if self.next_enabled else "Choose your data and settings that fit first."
        if plan is None:
            return
        for key, (value, note) in figures(plan).items():
            self.ids[key].value, self.ids[key].note = value, note
        box = self.ids.alternatives
        box.clear_widgets()
        for i, alt in enumerate(plan.alternatives):
            row = AlternativeRow(title=alt.title, description=alt.description)
            row.ids.switch.bind(on_release=lambda _b, i=i: self.ctrl.switch_alternative(i))
            row.ids.switch.disabled = not alt.fits
            box.add_widget(row)
        self.ids.summary.plain = (f"{plan.model_title} learns the {say.run_name(plan).split(' with ')[0]} task from "
                                  f"{plan.stats.rows:,} examples on {plan.device_name}.")

    def set_rate(self, text: str) -> None:
        self.ids.rate.foreground_color = (1, 1, 1, 1) if self.ctrl.set_electricity_rate(text) else (1, 0.5, 0.5, 1)

    def before_next(self) -> bool:
        self.ctrl.start_training()
        self.go("dashboard")
        return False
