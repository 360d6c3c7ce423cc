"""Words for the home screen: a stored run as one row of "Recent runs", with the buttons it offers.

Example:
    >>> STATUS_WORDS["paused"], actions_for("paused")
    ('Paused', ['resume', 'dashboard'])
"""

from __future__ import annotations

from typing import Any

from app import presenting as say
from app.present_playground import when

STATUS_WORDS = {"queued": "Starting", "running": "Training", "paused": "Paused", "failed": "Stopped by a problem",
                "completed": "Finished"}

#: What a run in each status offers, in the order of its buttons.
ACTIONS = {"completed": ["playground", "export"], "paused": ["resume", "dashboard"],
           "failed": ["resume", "dashboard"], "running": ["dashboard"], "queued": ["dashboard"]}

ACTION_LABELS = {"playground": "Playground", "export": "Export", "resume": "Resume", "dashboard": "Watch"}

#: How many runs the home screen lists (newest first).
RECENT = 8


def actions_for(status: str) -> list[str]:
    """The actions a run offers on the home screen (``playground``, ``export``, ``resume``, ``dashboard``)."""
    return list(ACTIONS.get(status, ["dashboard"]))


def action_label(action: str, status: str) -> str:
    """The button's text; the dashboard of a finished or stopped run is its details, not something to watch."""
    if action == "dashboard" and status in ("paused", "failed", "completed"):
        return "Details"
    return ACTION_LABELS[action]


def run_row(run: Any, now: float | None = None) -> dict[str, Any]:
    """A `RunRow` from the store as the home screen lists it (plain values only)."""
    s = run.summary or {}
    cfg = run.config
    profile = _profile_title(cfg.profile)
    facts = [profile, cfg.model.reference.removeprefix("builtin:") + (" (built in)" if
                                                                      cfg.model.reference.startswith("builtin:") else "")]
    total, steps = s.get("total_steps"), s.get("steps")
    if run.status == "completed":
        if steps:
            facts.append(f"{steps} steps in {say.duration(s.get('duration_seconds', run.elapsed_seconds))}")
        if s.get("final_loss") is not None:
            facts.append(f"final loss {float(s['final_loss']):.3f}")
    elif run.status == "paused" and (s.get("pause") or {}).get("step") is not None:
        facts.append(f"paused at step {s['pause']['step']}" + (f" of {total}" if total else ""))
    elif run.status == "failed" and run.error:
        facts.append(str(run.error.get("title", "a problem stopped it")))
    elif total:
        facts.append(f"{total} steps planned")
    status = run.status
    return {"id": run.id, "name": run.name or run.id, "status": status,
            "status_text": STATUS_WORDS.get(status, status), "when": when(run.created_at, now),
            "detail": "  ·  ".join(facts), "actions": actions_for(status),
            "labels": [action_label(a, status) for a in actions_for(status)]}


def _profile_title(profile: str) -> str:
    from peftstudio.planner import get_profile

    try:
        return str(get_profile(profile).title)
    except Exception:  # noqa: BLE001 - a profile from another version of PEFT Studio: show its id
        return profile
