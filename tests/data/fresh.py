"""Scripts run in a fresh interpreter: it runs one Python thread, so forking worker processes is safe
there (the test process may already run others, and forking it then can hang)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(script: str, *args: str, timeout: float = 300) -> Any:
    """Run `script` with `args` in a new interpreter at the repository root; its last output line, as JSON."""
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])
