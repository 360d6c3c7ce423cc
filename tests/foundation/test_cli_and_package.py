"""The CLI's plain errors and JSON, the package's import promises, and the Makefile's idempotence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from peftstudio.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
HARDWARE_KEYS = {"cpu_cores", "ram_total_bytes", "ram_available_bytes", "disk_free_bytes", "gpus"}


def test_hardware_json_has_the_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert HARDWARE_KEYS <= set(data)
    assert data["cpu_cores"] >= 1 and data["ram_total_bytes"] > data["ram_available_bytes"] * 0 >= 0
    assert isinstance(data["gpus"], list)


def test_hardware_json_from_the_console_script() -> None:
    exe = Path(sys.executable).with_name("peftstudio")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "peftstudio.cli.main"]
    out = subprocess.run([*cmd, "hardware", "--json"], capture_output=True, text=True, timeout=120, check=True)
    data = json.loads(out.stdout)
    assert HARDWARE_KEYS <= set(data)
    for gpu in data["gpus"]:
        assert {"name", "memory_total_bytes", "memory_free_bytes", "compute_capability", "bf16", "temperature_c",
                "utilization_percent"} <= set(gpu)


def test_errors_are_plain_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 2, "profile": "chatbot",
                               "model": {"reference": "builtin:tiny-llama"}, "data": {"path": "x"},
                               "training": {"learning_rate": "fast"}}))
    proc = subprocess.run([sys.executable, "-m", "peftstudio.cli.main", "config", "validate", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert 'training.learning_rate: expected a number such as 0.0002, got "fast"' in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    debug = subprocess.run([sys.executable, "-m", "peftstudio.cli.main", "--debug", "config", "validate", str(bad)],
                           capture_output=True, text=True, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_missing_file_is_plain(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["config", "validate", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert "File not found" in err and "Traceback" not in err


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("hardware", "models", "demo"):
        assert command in out


def test_import_is_light_and_never_imports_the_web_stack() -> None:
    code = ("import sys, time; t = time.perf_counter(); import peftstudio; d = time.perf_counter() - t; "
            "import peftstudio.records, peftstudio.store, peftstudio.errors, peftstudio.hardware; "
            "print(d, 'fastapi' in sys.modules, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["False", "False", "False"]


def test_public_api_names_resolve() -> None:
    import peftstudio

    assert peftstudio.__all__ == sorted(peftstudio.__all__)
    for name in peftstudio.__all__:
        assert getattr(peftstudio, name) is not None


def test_second_make_setup_installs_nothing() -> None:
    stamp = ROOT / ".venv" / ".peftstudio-installed"
    if not stamp.exists():
        pytest.skip("not set up through make")
    proc = subprocess.run(["make", "-q", "-C", str(ROOT), "setup"], capture_output=True, text=True)
    assert proc.returncode == 0, "make setup would reinstall although pyproject.toml is unchanged"


def test_every_error_code_has_a_docs_section() -> None:
    from peftstudio.errors import CATALOG, make

    text = (ROOT / "docs" / "errors.md").read_text()
    for code in CATALOG:
        assert f"## {code}\n" in text, code
        assert f'<a id="{code.replace("_", "-")}"></a>' in text, code
        err = make(code)
        assert 2 <= len(err.info.actions) <= 3, code
        assert "{" not in err.render(), code  # every template field has a default
