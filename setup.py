"""Build step of our own: the user guide (docs/*.md) travels inside the package as peftstudio/help/,
so `peftstudio help` and the studio's Get help open offline on an installed copy. Everything else about
the package is declared in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithHelp(build_py):
    def run(self) -> None:
        super().run()
        docs = Path(__file__).resolve().parent / "docs"
        target = Path(self.build_lib) / "peftstudio" / "help"
        target.mkdir(parents=True, exist_ok=True)
        for page in sorted(docs.glob("*.md")):
            shutil.copyfile(page, target / page.name)


setup(cmdclass={"build_py": BuildWithHelp})
