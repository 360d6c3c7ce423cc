"""The page's API types are generated from the server's OpenAPI schema, and the committed files match it:
web/openapi.json is what the server publishes, and web/src/api-schema.d.ts is what openapi-typescript makes
of that file (a server change without `make web` fails here)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from peftstudio.server.schema import main, openapi_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "web" / "openapi.json"
TYPES = ROOT / "web" / "src" / "api-schema.d.ts"
GENERATOR = ROOT / "web" / "apitypes" / "node_modules" / "openapi-typescript" / "bin" / "cli.js"


def test_the_committed_schema_is_the_servers() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "web/openapi.json differs from the server's schema: run `make web` (tools/build_web.sh) and commit")


def test_the_schema_is_what_the_server_serves(client) -> None:  # type: ignore[no-untyped-def]
    served = client.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == openapi_schema()
    for name in ("PlanRequest", "StartRequest", "PresetRequest", "CheckRequest", "DataFixRequest", "RunFixRequest"):
        assert name in served.json()["components"]["schemas"]


@pytest.mark.skipif(not GENERATOR.is_file() or shutil.which("node") is None,
                    reason="openapi-typescript is not installed (make web installs it into web/apitypes)")
def test_the_committed_types_are_generated_from_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "api-schema.d.ts"
    args = json.loads((ROOT / "web" / "apitypes" / "package.json").read_text())["scripts"]["generate"].split()
    options = [a for a in args[2:] if a not in ("-o", "../src/api-schema.d.ts")]
    subprocess.run(["node", str(GENERATOR), str(SCHEMA), *options, "-o", str(out)], check=True,
                   capture_output=True, timeout=120)
    assert TYPES.read_text(encoding="utf-8") == out.read_text(encoding="utf-8"), (
        "web/src/api-schema.d.ts is not what openapi-typescript makes of web/openapi.json: run `make web`")
    # the page's client takes its request types from the generated file
    assert 'from "./api-schema"' in (ROOT / "web" / "src" / "api.ts").read_text(encoding="utf-8")


def test_the_schema_writer_is_atomic_and_refuses_bad_use(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([]) == 2 and "usage" in capsys.readouterr().err
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "schema.json"
    assert main([str(out)]) == 0
    assert json.loads(out.read_text())["openapi"].startswith("3.")
    assert [p.name for p in out.parent.iterdir()] == ["schema.json"]  # no temporary file left
