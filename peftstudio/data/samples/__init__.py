"""Sample data bundled with PEFT Studio (written for the project; see tools/make_sample_data.py).

- ``pirate_chat.jsonl``: ~300 chat examples; the assistant answers like a cheerful pirate, starting
  with "Arr!" and ending with "Fair winds, matey!" (a behaviour small models learn in minutes).
- ``alpaca.json``, ``qa.csv``, ``reviews.tsv`` (classification), ``stories.txt`` (plain text),
  ``prompt_completion.parquet``: tiny files showing each supported format.

Example:
    >>> sample_path("qa.csv").name
    'qa.csv'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLES = ("pirate_chat.jsonl", "alpaca.json", "qa.csv", "reviews.tsv", "stories.txt", "prompt_completion.parquet")


def sample_path(name: str) -> Path:
    """The path of a bundled sample file (see `SAMPLES`).

    Raises a plain ``file_not_found`` error for an unknown name.
    """
    path = Path(str(resources.files("peftstudio.data.samples").joinpath(name)))
    if name not in SAMPLES or not path.is_file():
        from peftstudio.errors import make

        raise make("file_not_found", path=f"the sample {name!r} (samples: {', '.join(SAMPLES)})")
    return path


__all__ = ["SAMPLES", "sample_path"]
