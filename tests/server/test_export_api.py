"""The export API on a real LoRA adapter over builtin:tiny-llama: options with estimated sizes, a GGUF export at
q4_k_m with its Test Export passing (at the lower same-next-token limits the export tests use for random-weight
models), its files downloaded (and nothing else: no other file of the folder, no traversal), an adapter-only
Ollama export with its commands; bad input answered with plain errors while the server keeps serving."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from peftstudio.server import ServerSettings
from tests.export.families import RANDOM_WEIGHTS_MIN_TOP1
from tests.server.conftest import LOGIN, SESSION, Studio, serving, start_server
from tests.server.tuned import make_tuned_run


@pytest.fixture
def studio(tmp_path: Path, fresh_home: Path) -> Iterator[Studio]:
    settings = attrs.evolve(ServerSettings.create("127.0.0.1", 0, login_token=LOGIN, session_key=SESSION,
                                                  failure_delay_s=0.0, upload_dir=tmp_path / "uploads"),
                            export_min_top1=RANDOM_WEIGHTS_MIN_TOP1)
    yield from serving(settings, tmp_path, tmp_path / "uploads")


@pytest.fixture
def tuned_run(studio: Studio) -> str:
    return make_tuned_run()


def _origin(client: httpx.Client) -> dict[str, str]:
    return {"origin": str(client.base_url).rstrip("/")}


def finished(client: httpx.Client, eid: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/exports/{eid}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.3)
    raise AssertionError("the export did not finish")


def test_options_list_every_kind_and_quantization_with_sizes(client: httpx.Client, tuned_run: str) -> None:
    o = client.get("/api/exports/options", params={"ref": tuned_run}).json()
    assert [k["kind"] for k in o["kinds"]] == ["hf", "gguf", "ollama", "lmstudio"]
    sizes = {q["name"]: q["size_bytes"] for q in o["quants"]}
    assert sizes["q4_k_m"] < sizes["q8_0"] < sizes["f16"] < sizes["f32"] and o["default_quant"] == "q4_k_m"
    assert 0 < o["adapter_size_bytes"] < sizes["q4_k_m"] and o["local"] is True


def test_gguf_q4_k_m_with_test_export_and_its_file_downloaded(client: httpx.Client, tuned_run: str) -> None:
    r = client.post("/api/exports", json={"ref": tuned_run, "kind": "gguf", "quant": "q4_k_m"}, headers=_origin(client))
    assert r.status_code == 202 and r.json()["status"] == "running"
    job = finished(client, r.json()["id"])
    assert job["status"] == "done", job["error"]
    result, test = job["result"], job["result"]["test"]
    assert result["quant"] == "q4_k_m" and test["passed"] is True and test["checks"] and test["sample"] != ""
    assert any(c["name"].endswith("same next token") and c["limit"] == 0.75 for c in test["checks"])
    assert job["commands"] == []  # a plain GGUF file: no app to import it into
    [gguf] = [f for f in result["files"] if f.endswith(".gguf")]
    d = client.get(f"/api/exports/{job['id']}/files/{gguf}")
    assert d.status_code == 200 and d.headers["content-disposition"].startswith("attachment")
    assert d.content == (Path(result["path"]) / gguf).read_bytes() and len(d.content) == job["file_sizes"][gguf]
    assert d.content[:4] == b"GGUF"
    for bad in ("export.json", "../export.json", "..%2F..%2Fexport.json", "%2Fetc%2Fpasswd", "nothing.gguf"):
        r = client.get(f"/api/exports/{job['id']}/files/{bad}")
        assert r.status_code in (403, 404) and "error" in r.json() and "Traceback" not in r.text, bad
    assert client.get(f"/api/exports/{job['id']}").json()["status"] == "done"  # still served
    from peftstudio.server import routes_export

    routes_export._jobs.clear()  # as after a restart: the record is read back from the export's folder
    again = client.get(f"/api/exports/{job['id']}").json()
    assert again["result"]["test"]["passed"] is True and again["file_sizes"] == job["file_sizes"]
    assert client.get(f"/api/exports/{job['id']}/files/{gguf}").content == d.content


def test_adapter_only_ollama_export_has_its_commands(client: httpx.Client, tuned_run: str) -> None:
    r = client.post("/api/exports", json={"ref": tuned_run, "kind": "ollama", "adapter_only": True, "test": False,
                                          "name": "Pirate Bot"}, headers=_origin(client))
    job = finished(client, r.json()["id"])
    assert job["status"] == "done", job["error"]
    assert job["result"]["adapter_file"] and job["result"]["test"] is None
    assert job["commands"][0].startswith("ollama create pirate-bot -f ") and job["commands"][1] == "ollama run pirate-bot"
    assert "Modelfile" in job["result"]["files"]


@pytest.mark.parametrize(("method", "path", "body", "code"), [
    ("get", "/api/exports/options", None, "config_invalid"),
    ("get", "/api/exports/options?ref=nothing-here", None, "run_not_found"),
    ("post", "/api/exports", {"ref": "RUN", "kind": "zip"}, "config_invalid"),
    ("post", "/api/exports", {"ref": "RUN", "kind": "gguf", "quant": "q3_fancy"}, "config_invalid"),
    ("post", "/api/exports", {"ref": "RUN", "kind": "hf", "quant": "q4_k_m"}, "config_invalid"),
    ("post", "/api/exports", {"ref": "RUN", "kind": "lmstudio", "adapter_only": True}, "config_invalid"),
    ("post", "/api/exports", {"ref": "nothing-here", "kind": "gguf"}, "run_not_found"),
    ("post", "/api/exports", {"kind": "gguf"}, "config_invalid"),
    ("post", "/api/exports", "not json", "config_invalid"),
    ("get", "/api/exports/0123456789abcdef", None, "item_not_found"),
    ("get", "/api/exports/not-an-id", None, "item_not_found"),
    ("get", "/api/exports/..%2F..%2Fetc/files/passwd", None, "item_not_found"),  # no such route: nothing read
    ("get", "/api/exports/0123456789abcdef/files/x.gguf", None, "item_not_found"),
    ("post", "/api/exports/0123456789abcdef/open", {}, "item_not_found"),
])
def test_bad_input_is_a_plain_error(client: httpx.Client, tuned_run: str, method: str, path: str, body: Any,
                                    code: str) -> None:
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, str) else {
        "json": {k: (tuned_run if v == "RUN" else v) for k, v in body.items()} if body else body}
    r = client.request(method.upper(), path, headers={**_origin(client), "content-type": "application/json"},
                       **kwargs)
    assert r.status_code >= 400 and r.json()["error"]["code"] == code, r.text
    assert "Traceback" not in r.text
    assert client.get("/api/exports/options", params={"ref": tuned_run}).status_code == 200  # and keeps serving


def test_refusals_change_nothing(client: httpx.Client, studio: Studio, tuned_run: str) -> None:
    from peftstudio.server.routes_export import exports_root

    body = {"ref": tuned_run, "kind": "gguf"}
    assert client.post("/api/exports", json=body, headers={"origin": "http://evil.example"}).status_code == 403
    with studio.client(signed_in=False) as anonymous:
        assert anonymous.post("/api/exports", json=body, headers=_origin(client)).status_code == 401
        assert anonymous.get("/api/exports/options", params={"ref": tuned_run}).status_code == 401
    assert not exports_root().exists() or not any(exports_root().iterdir())  # nothing was written


def test_open_folder_only_when_the_studio_runs_on_this_computer(tmp_path: Path, fresh_home: Path) -> None:
    from peftstudio.server import routes_export

    eid = "00112233445566aa"
    folder = routes_export.exports_root() / eid
    folder.mkdir(parents=True)
    routes_export._save(folder, {"status": "done", "result": {
        "kind": "gguf", "path": str(folder / "m"), "files": [], "instructions": "", "size_bytes": 0}})
    settings = ServerSettings.create("127.0.0.2", 0, login_token=LOGIN, session_key=SESSION, failure_delay_s=0.0,
                                     upload_dir=tmp_path / "u")
    url, settings, server, thread = start_server(settings)
    try:
        remote = f"http://127.0.0.2:{settings.port}"
        with httpx.Client(base_url=remote, cookies={"peftstudio_session": SESSION}) as c:
            r = c.post(f"/api/exports/{eid}/open", headers={"origin": remote})
            assert r.status_code == 403 and "another computer" in r.json()["error"]["explanation"], r.text
            assert c.get(f"/api/exports/{eid}").json()["status"] == "done"
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(timeout=10)
