"""Shared output helpers for CLI commands: JSON and human byte sizes."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def print_json(data: Any, *, file: TextIO | None = None) -> None:
    """Print `data` as indented JSON (records must already be plain data)."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str), file=file or sys.stdout)


def human_bytes(n: float | int | None) -> str:
    """``1.5 GB`` style sizes (powers of 1024, as operating systems show them)."""
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
