"""Shared output helpers for CLI commands: JSON (sizes and durations come from `peftstudio.units`)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def print_json(data: Any, *, file: TextIO | None = None) -> None:
    """Print `data` as indented JSON (records must already be plain data)."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str), file=file or sys.stdout)
