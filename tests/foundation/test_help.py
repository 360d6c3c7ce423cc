"""The user guide travels with the package: `peftstudio help` reads it offline, a wheel carries it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from peftstudio import help as guide
from peftstudio.cli.main import main
from peftstudio.errors import PlainError, make

ROOT = Path(__file__).resolve().parents[2]


def test_every_docs_page_is_a_topic() -> None:
    assert set(guide.topics()) == {p.stem for p in (ROOT / "docs").glob("*.md")}


def test_an_error_code_opens_its_own_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", "disk_full"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## disk_full") and "## permission_denied" not in out
    assert "archive or delete old model versions" in out


def test_every_error_points_at_a_section_that_exists() -> None:
    from peftstudio.errors.catalog import CATALOG

    for code in CATALOG:
        info = make(code).info
        assert guide.read_page(info.help_url).startswith(f"## {code}"), code
        assert f"peftstudio help {info.help_url}" in PlainError(info).render()


def test_an_unknown_topic_is_a_plain_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", "no-such-page"]) == 2
    err = capsys.readouterr().err
    assert "No such help topic" in err and "peftstudio help list" in err and "Traceback" not in err
    with pytest.raises(PlainError):
        guide.page_path("../README")


@pytest.mark.slow
def test_a_built_wheel_carries_the_guide(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=600)
    wheel = next(tmp_path.glob("peftstudio-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"peftstudio/help/{p.name}" for p in (ROOT / "docs").glob("*.md")} <= names
