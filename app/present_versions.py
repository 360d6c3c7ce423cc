"""Words and numbers for the versions screen: timeline rows, a comparison of two versions, the disk prompt.

These turn the library's records (`TimelineEntry`, `VersionComparison`, `SpacePrompt`) into the plain
dicts the screen shows; no decisions are made here (which direction of a metric is better comes from
the library, passed in as `lower_is_better`).

Example:
    >>> size(340970)
    '333.0 KB'
    >>> change("best_val_loss", -0.25, lambda name: True)
    ('-0.250', 'better')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from peftstudio.settings import name_at
from peftstudio.units import human_bytes as size

#: The metrics a version row shows, in order, with their plain names.
SHOWN_METRICS: tuple[tuple[str, str], ...] = (
    ("best_val_loss", "validation loss"),
    ("final_loss", "training loss"),
    ("quality_score", "quality"),
    ("task_score", "task"),
    ("retention_score", "retention"),
    ("forgotten_answers", "forgotten"),
)

#: How many decimals a metric is shown with (the losses: 3).
DECIMALS = {"quality_score": 0, "task_score": 0, "retention_score": 0, "forgotten_answers": 0}
STATE_WORDS = {"ready": "", "archived": "archived (compressed)", "missing": "files missing"}

LowerIsBetter = Callable[[str], "bool | None"]


def when(timestamp: float) -> str:
    """A version's date and time, e.g. ``2026-11-25 15:17``."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def change(name: str, delta: float, lower_is_better: LowerIsBetter) -> tuple[str, str]:
    """A metric's change as text and its verdict: ``better``, ``worse`` or ``""`` (no direction / none).

    Example:
        >>> change("final_loss", 0.5, lambda n: True), change("x", 0.0, lambda n: True)
        (('+0.500', 'worse'), ('+0.000', ''))
    """
    lower = lower_is_better(name)
    verdict = "" if lower is None or delta == 0 else ("better" if (delta < 0) == lower else "worse")
    return f"{delta:+.3f}", verdict


def metric_words(metrics: dict[str, float], deltas: dict[str, float], lower_is_better: LowerIsBetter,
                 colours: dict[str, str] | None = None) -> str:
    """``validation loss 1.234 (-0.100, better) · training loss ...`` with Kivy colour markup when
    `colours` maps verdicts to hex colours.

    Example:
        >>> metric_words({"best_val_loss": 1.5}, {"best_val_loss": -0.5}, lambda n: True)
        'validation loss 1.500 (-0.500, better)'
        >>> metric_words({}, {}, lambda n: True)
        'no metrics recorded'
    """
    parts = []
    for key, label in SHOWN_METRICS:
        if key not in metrics:
            continue
        text = f"{label} {metrics[key]:.{DECIMALS.get(key, 3)}f}"
        if key in deltas:
            figure, verdict = change(key, deltas[key], lower_is_better)
            note = f"{figure}, {verdict}" if verdict else figure
            colour = (colours or {}).get(verdict)
            text += f" ([color={colour}]{note}[/color])" if colour else f" ({note})"
        parts.append(text)
    return " · ".join(parts) or "no metrics recorded"


def version_row(entry: Any, lower_is_better: LowerIsBetter, *, previous_label: str = "",
                colours: dict[str, str] | None = None) -> dict[str, Any]:
    """One row of the timeline (a `TimelineEntry`) as plain data for the screen."""
    v = entry.version
    ready = v.state == "ready"
    state = STATE_WORDS.get(v.state, v.state)
    facts = [when(v.created_at), size(v.size_bytes)] + ([state] if state else [])
    return {
        "id": v.id,
        "label": v.label,
        "run_id": v.run_id or "",
        "state": v.state,
        "active": bool(v.active),
        "size": size(v.size_bytes),
        "size_bytes": v.size_bytes,
        "facts": " · ".join(facts),
        "metrics": metric_words(v.metrics, entry.deltas, lower_is_better, colours),
        "since": f"change since {previous_label}" if previous_label and entry.deltas else "",
        "can_use": ready and bool(v.run_id),
        "can_activate": ready and not v.active,
        "can_archive": ready,
        "can_restore": v.state == "archived",
        "can_delete": v.state in ("ready", "archived", "missing"),
    }


def comparison(result: Any, lower_is_better: LowerIsBetter) -> dict[str, Any]:
    """Two versions compared (a `VersionComparison`): metric changes and settings that differ.

    Example:
        >>> from types import SimpleNamespace as N
        >>> a, b = N(label="v1", metrics={"best_val_loss": 2.0}), N(label="v2", metrics={"best_val_loss": 1.5})
        >>> d = N(path="training.learning_rate", values=(0.02, 0.005))
        >>> c = comparison(N(a=a, b=b, metric_deltas={"best_val_loss": -0.5}, differences=(d,)), lambda n: True)
        >>> c["title"], c["metrics"][0], c["settings"][0]
        ('v1 compared with v2', 'validation loss: 2.000 -> 1.500 (-0.500, better)', 'learning rate: 0.02 -> 0.005')
    """
    a, b = result.a, result.b
    metrics = []
    for key, label in SHOWN_METRICS:
        if key in result.metric_deltas:
            figure, verdict = change(key, result.metric_deltas[key], lower_is_better)
            places = DECIMALS.get(key, 3)
            metrics.append(f"{label}: {a.metrics[key]:.{places}f} -> {b.metrics[key]:.{places}f} "
                           f"({figure}{', ' + verdict if verdict else ''})")
    settings = [f"{_in_sentence(name_at(d.path))}: {' -> '.join(_value(x) for x in d.values)}"
                for d in result.differences]
    return {"title": f"{a.label} compared with {b.label}", "a": a.label, "b": b.label,
            "metrics": metrics or ["no metric both versions recorded"],
            "settings": settings or ["the same settings"]}


def _in_sentence(name: str) -> str:
    """A setting's name inside a sentence: ``learning rate``, but ``LoRA rank`` keeps its capitals."""
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def _value(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    return "–" if x is None else str(x)


def space_prompt(prompt: Any, what: str = "") -> dict[str, Any]:
    """The disk prompt (a `SpacePrompt`) as plain data: the shortfall and one entry per candidate.

    Example:
        >>> from types import SimpleNamespace as N
        >>> c = N(version_id="v1-abc", label="v1", line="m [chatbot]", state="ready", size_bytes=3 * 2**20,
        ...       frees_if_archived=2**20, frees_if_deleted=3 * 2**20)
        >>> p = N(needed_bytes=10 * 2**20, margin_bytes=0, free_bytes=8 * 2**20, missing_bytes=2 * 2**20,
        ...       candidates=(c,), suggested=("v1-abc",), enough_if_all_deleted=True)
        >>> d = space_prompt(p, "the GGUF file")
        >>> d["summary"]
        'Writing the GGUF file needs about 10.0 MB, but only 8.0 MB is free: 2.0 MB more is needed.'
        >>> d["candidates"][0]["archive"], d["candidates"][0]["delete"]
        ('Archive v1 (frees about 1.0 MB)', 'Delete v1 (frees 3.0 MB)')
    """
    what = what or "this"
    needed = prompt.needed_bytes + prompt.margin_bytes
    summary = (f"Writing {what} needs about {size(needed)}, but only {size(prompt.free_bytes)} is free: "
               f"{size(prompt.missing_bytes)} more is needed.")
    if not prompt.candidates:
        advice = "There are no older model versions to clear here; free space on the disk yourself."
    elif prompt.suggested:
        labels = ", ".join(c.label for c in prompt.candidates if c.version_id in prompt.suggested)
        advice = f"Deleting {labels} would free enough. Archiving keeps a version and frees part of its size."
    else:
        advice = "Even clearing every older version would not free enough; free space on the disk too."
    return {"summary": summary, "advice": advice, "enough": False,
            "candidates": [_candidate(c, prompt.suggested) for c in prompt.candidates]}


def space_listing(listing: Any, what: str = "") -> dict[str, Any]:
    """The prompt when the disk filled up and the need is not known: every version that could be cleared.

    Example:
        >>> from types import SimpleNamespace as N
        >>> space_listing(N(candidates=(), suggested=()), "the checkpoint")["summary"]
        'The disk filled up while writing the checkpoint.'
    """
    summary = f"The disk filled up while writing {what}." if what else "The disk is full."
    advice = ("Clearing older model versions frees the space shown on each button." if listing.candidates else
              "There are no older model versions to clear here; free space on the disk yourself.")
    return {"summary": summary, "advice": advice, "enough": False, "unknown_need": True,
            "candidates": [_candidate(c, ()) for c in listing.candidates]}


def _candidate(c: Any, suggested: tuple[str, ...]) -> dict[str, Any]:
    return {
        "id": c.version_id,
        "label": c.label,
        "line": c.line,
        "text": f"{c.label} of {c.line}: {size(c.size_bytes)}" + (" (archived)" if c.state == "archived" else ""),
        "archive": _archive_words(c) if c.state == "ready" else "",
        "delete": f"Delete {c.label} (frees {size(c.frees_if_deleted)})",
        "suggested": c.version_id in suggested,
    }


def _archive_words(c: Any) -> str:
    """Archiving frees what compression saves; weights that hardly compress free little.

    Example:
        >>> from types import SimpleNamespace as N
        >>> _archive_words(N(label="v1", size_bytes=2**20, frees_if_archived=10))
        'Archive v1 (frees little)'
    """
    if c.frees_if_archived < c.size_bytes // 20:
        return f"Archive {c.label} (frees little)"
    return f"Archive {c.label} (frees about {size(c.frees_if_archived)})"


def space_enough(what: str = "") -> dict[str, Any]:
    """The prompt once enough space is free."""
    return {"summary": f"There is enough free space now{' for ' + what if what else ''}.",
            "advice": "", "enough": True, "candidates": []}
