"""Sizes and durations as people read them: the one place where bytes and seconds become words.

Three duration styles exist because three places need them: a terminal's tight columns
(`short_duration`), a screen's spaced words (`spaced_duration`) and an estimate's rounded phrase
(`worded_duration`). Sizes count in powers of 1024, as operating systems show them.

Example:
    >>> human_bytes(1536), human_bytes(3 * 1024**3)
    ('1.5 KB', '3.0 GB')
    >>> short_duration(3900), spaced_duration(95), worded_duration(5400)
    ('1h 05m', '1 min 35 s', '1.5 hours')
"""

from __future__ import annotations

import math


def human_bytes(n: float | None) -> str:
    """A byte count in the unit that suits it; ``unknown`` for None.

    Example:
        >>> human_bytes(0), human_bytes(1023), human_bytes(50 * 1024**2), human_bytes(None)
        ('0 bytes', '1023 bytes', '50.0 MB', 'unknown')
    """
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover - the loop always returns


def short_duration(seconds: float | None) -> str:
    """``1h 05m``, ``4m 10s`` or ``12s``; ``unknown`` when not known.

    Example:
        >>> short_duration(3900), short_duration(250), short_duration(12.4), short_duration(None)
        ('1h 05m', '4m 10s', '12s', 'unknown')
    """
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def spaced_duration(seconds: float | None) -> str:
    """``45 s``, ``3 min 5 s``, ``2 h 10 min``; a dash when unknown.

    Example:
        >>> spaced_duration(45), spaced_duration(185), spaced_duration(7800), spaced_duration(None)
        ('45 s', '3 min 5 s', '2 h 10 min', '–')
    """
    if seconds is None or not math.isfinite(seconds):
        return "–"
    s = round(max(seconds, 0))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def worded_duration(seconds: float) -> str:
    """``40 seconds``, ``12 minutes``, ``1.5 hours`` or ``2.0 days``: an estimate's rounded wording.

    Example:
        >>> worded_duration(40), worded_duration(700), worded_duration(5400)
        ('40 seconds', '12 minutes', '1.5 hours')
    """
    if seconds < 90:
        return f"{max(1, math.ceil(seconds))} seconds"
    if seconds < 5400:
        return f"{round(seconds / 60)} minutes"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


__all__ = ["human_bytes", "short_duration", "spaced_duration", "worded_duration"]
