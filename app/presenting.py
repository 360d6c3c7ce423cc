"""Words and numbers for the screens: how records from the library are shown (no decisions are made here).

Example:
    >>> duration(95)
    '1 min 35 s'
    >>> duration_range(600, 1500)
    '10 to 25 minutes'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peftstudio.units import human_bytes as gb
from peftstudio.units import spaced_duration as duration  # noqa: F401 - the screens format durations through this module


def duration_range(low: float, high: float) -> str:
    """``10 to 25 minutes`` style range, in the unit that suits the larger end.

    Example:
        >>> duration_range(0.4, 1.2)
        'about 1 second'
    """
    if high < 90:
        return _span(max(1, round(low)), max(1, round(high)), "second")
    if high < 90 * 60:
        return _span(max(1, round(low / 60)), max(1, round(high / 60)), "minute")
    if high < 48 * 3600:
        return f"{low / 3600:.1f} to {high / 3600:.1f} hours"
    return f"{low / 86400:.1f} to {high / 86400:.1f} days"


def _span(low: int, high: int, unit: str) -> str:
    return f"about {low} {unit}{'s' if low != 1 else ''}" if low == high else f"{low} to {high} {unit}s"


def energy(low_kwh: float, high_kwh: float) -> str:
    """An energy range in kWh, or in Wh when it is small.

    Example:
        >>> energy(0.000011, 0.000025), energy(1.5, 3)
        ('0.011 to 0.025 Wh', '1.5 to 3 kWh')
    """
    if high_kwh < 0.1:
        return f"{number(low_kwh * 1000, 2)} to {number(high_kwh * 1000, 2)} Wh"
    return f"{number(low_kwh, 2)} to {number(high_kwh, 2)} kWh"


def number(value: float, digits: int = 3) -> str:
    """A number with `digits` significant digits, without needless zeros (``0.000123``, ``1.5``)."""
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def money(low: float, high: float, currency: str) -> str:
    """A cost range; tiny amounts read as ``less than 0.01 USD``.

    Example:
        >>> money(0.0004, 0.002, "USD"), money(1.234, 2.5, "EUR")
        ('less than 0.01 USD', '1.23 to 2.50 EUR')
    """
    if high < 0.01:
        return f"less than 0.01 {currency}"
    return f"{low:.2f} to {high:.2f} {currency}"


def hardware(hw: Any) -> str:
    if hw.gpus:
        g = hw.gpus[0]
        return f"{g.name} with {gb(g.memory_total_bytes)} of GPU memory, {hw.cpu_cores} processor cores, " \
               f"{gb(hw.ram_total_bytes)} RAM"
    return f"No GPU found: training will use the processor ({hw.cpu_cores} cores, {gb(hw.ram_total_bytes)} RAM). " \
           f"Small models train fine; large ones would be very slow."


def profile_estimate(pick: Any) -> str:
    """A profile card's estimate: the model the profile picks here, its time, its memory and whether it fits."""
    plan = pick.plan
    e = plan.estimates.duration_seconds
    fits = "fits" if plan.memory.fits else "does not fit: see the model step"
    return (f"On this computer: {duration_range(e.min, e.max)} with {plan.model_title}; memory about "
            f"{gb(plan.memory.estimated_peak_bytes)} of {gb(plan.memory.available_bytes)} ({fits})")


def model_option(reference: str, plan: Any) -> dict[str, Any]:
    builtin = reference.startswith("builtin:")
    local = not builtin and (Path(reference).expanduser().exists())
    where = "Built in: works offline" if builtin else ("On this computer" if local else
                                                       "Downloads from the internet the first time")
    e = plan.estimates.duration_seconds
    return {"reference": reference, "title": plan.model_title, "fits": bool(plan.memory.fits),
            "builtin": builtin, "where": where,
            "memory": f"needs about {gb(plan.memory.estimated_peak_bytes)} of {gb(plan.memory.available_bytes)}",
            "estimate": duration_range(e.min, e.max), "problem": ""}


def model_unavailable(reference: str, exc: BaseException) -> dict[str, Any]:
    from peftstudio.errors import as_plain

    info = as_plain(exc).info
    return {"reference": reference, "title": reference, "fits": False, "builtin": False, "where": info.title,
            "memory": "", "estimate": "", "problem": info.explanation}


def data_summary(report: Any) -> str:
    errors = len(report.errors)
    warnings = sum(1 for f in report.findings if f.severity == "warning")
    what = f"{report.rows:,} examples in a {report.format.upper()} file, structure: {structure_name(report)}."
    if errors:
        return f"{what} {errors} problem{'s' if errors != 1 else ''} must be fixed before training."
    if warnings:
        return f"{what} Ready to train; {warnings} warning{'s' if warnings != 1 else ''} worth a look."
    return f"{what} Ready to train."


STRUCTURE_NAMES = {
    "chat": "conversations (chat messages)", "sharegpt": "conversations (ShareGPT style)",
    "alpaca": "instructions with answers (Alpaca style)", "prompt_completion": "prompts with completions",
    "question_answer": "questions with answers", "classification": "texts with labels", "text": "plain text",
}


def structure_name(report: Any) -> str:
    return STRUCTURE_NAMES.get(report.structure.name, report.structure.name.replace("_", " "))


def fixed_suffix(path: str) -> str:
    """The cleaned file keeps a text format the fixes can write (Parquet and JSON become JSON Lines)."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in (".jsonl", ".csv", ".tsv", ".txt") else ".jsonl"


def run_name(plan: Any) -> str:
    from peftstudio.planner import get_profile

    return f"{get_profile(plan.profile).title} with {plan.model_title}"


def banner_for(event: dict[str, Any], run_error: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A dashboard banner for a run event that carries suggestions (the guards' and the quality score's).

    The suggestions are advice, shown as text. When the event paused the run with a plain error
    (``data.error_code``), that error's actions become the banner's buttons.
    """
    data = event.get("data") or {}
    suggestions = data.get("suggestions")
    if not suggestions:
        return None
    advice = [str(s.get("label", s)) if isinstance(s, dict) else str(s) for s in suggestions]
    actions = [{"label": str(s["label"]), **s} for s in suggestions if isinstance(s, dict) and s.get("fix_id")]
    code = data.get("error_code")
    if code and run_error and run_error.get("code") == code:
        actions = [{"label": a["label"], "fix_id": a.get("fix_id"), "steps": list(a.get("steps") or ())}
                   for a in run_error.get("actions", [])]
    kind = event["kind"]
    severity = data.get("severity") or ("error" if code or data.get("action") == "pause" else
                                        "info" if kind == "quality" else "warning")
    title = data.get("title") or BANNER_TITLES.get(kind, kind.replace("_", " ").capitalize())
    message = event.get("message", "")
    return {"id": event["id"], "kind": kind, "title": title, "message": message,
            "advice": "\n".join(f"-  {a}" for a in advice), "severity": severity, "actions": actions[:3],
            "step": event.get("step")}


def quality_words(quality: Any) -> str:
    """The finished dashboard's quality lines from a run's stored score (``summary["quality"]``): the total,
    each part with what it measured, and what the tuned model forgot ("" when the run has no score).

    Example:
        >>> q = {"total": 58, "flags": ["forgetting"], "suggestions": ["Lower the learning rate."], "parts": [
        ...     {"name": "task", "title": "Task", "points": 40.0, "max_points": 50, "measured": "base 0.2 -> 0.8"},
        ...     {"name": "retention", "title": "Retention", "points": 18.0, "max_points": 50,
        ...      "measured": "forgot 3 of the 10"}],
        ...     "checks": {"retention": {"forgotten": [{"question": "How many legs does a cat have?"}]}}}
        >>> print(quality_words(q))
        Quality score 58 / 100, flagged: the tuned model forgot what the base model knew.
        Task 40 / 50: base 0.2 -> 0.8
        Retention 18 / 50: forgot 3 of the 10
        Forgotten: How many legs does a cat have?
    """
    if not isinstance(quality, dict) or quality.get("total") is None:
        return ""
    flagged = "forgetting" in (quality.get("flags") or ())
    lines = [f"Quality score {quality['total']:.0f} / 100"
             + (", flagged: the tuned model forgot what the base model knew." if flagged else ".")]
    for p in quality.get("parts") or ():
        lines.append(f"{p.get('title', p.get('name', ''))} {p.get('points', 0):.0f} / {p.get('max_points', 0)}: "
                     f"{p.get('measured', '')}")
    checks = quality.get("checks") if isinstance(quality.get("checks"), dict) else {}
    retention = checks.get("retention") if isinstance(checks.get("retention"), dict) else {}
    forgotten = [str(f.get("question", "")) for f in retention.get("forgotten") or () if isinstance(f, dict)]
    if forgotten:
        lines.append("Forgotten: " + "; ".join(forgotten[:5]) + ("; ..." if len(forgotten) > 5 else ""))
    lines += [f"({note})" for note in checks.get("notes") or ()]
    return "\n".join(lines)


BANNER_TITLES = {
    "divergence": "Training became unstable",
    "overfitting": "The model is starting to memorise the examples",
    "memory_pressure": "Memory is running short",
    "gradient_explosion": "A sudden jump in training",
    "quality": "How well did it learn?",
}

def gauge_values(reading: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """Gauge name -> (value, detail) from a system reading; value -1 when there is no such reading."""
    gpus = reading.get("gpus") or []
    out: dict[str, tuple[float, str]] = {}
    if gpus:
        g = gpus[0]
        util = g.get("utilization_percent")
        out["gpu"] = (float(util) if util is not None else -1.0, g.get("name", "GPU"))
        out["gpu_memory"] = (float(g.get("memory_percent") or 0.0),
                             f"{gb(g.get('memory_used_bytes', 0))} of {gb(g.get('memory_total_bytes', 0))}")
        temp = g.get("temperature_c")
        out["gpu_temp"] = (float(temp) if temp is not None else -1.0, "amber from 80°C")
    else:
        out["gpu"] = (-1.0, "No GPU")
        out["gpu_memory"] = (-1.0, "No GPU")
        out["gpu_temp"] = (-1.0, "No GPU")
    if "cpu_percent" in reading:
        out["cpu"] = (float(reading["cpu_percent"]), "all cores")
    else:
        out["cpu"] = (-1.0, "waiting for a reading")
    if "ram_percent" in reading:
        out["ram"] = (float(reading["ram_percent"]),
                      f"{gb(reading.get('ram_used_bytes', 0))} of {gb(reading.get('ram_total_bytes', 0))}")
    else:
        out["ram"] = (-1.0, "waiting for a reading")
    return out


def loss_zones(first_loss: float) -> tuple[float, float]:
    """(good_below, problem_above): the zone boundaries for a run whose first loss was `first_loss`
    (decided by `peftstudio.runs.loss_zones`, shared with the studio in the browser)."""
    from peftstudio.runs import loss_zones as library_zones

    zones = library_zones(first_loss)
    return (0.0, 0.0) if zones is None else (zones.good_below, zones.problem_above)
