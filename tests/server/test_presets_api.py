"""The presets API: the library with search and filters, saved from the wizard's plan and from a finished run,
opened as the wizard's choices, downloaded as a file and imported again (checked and adjusted for this machine
before anything is stored); broken and hostile files answered with plain errors that change nothing; the
sign-in and Origin refusals. This machine is simulated through the library's `simulated_hardware`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from peftstudio.hardware import simulated_hardware
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.store import open_store
from tests.server.conftest import Studio
from tests.server.simulated import SimulatedStudio, simulated_studio

WIZARD = {"profile": "chatbot", "model": "builtin:tiny-llama", "data": "sample:pirate_chat.jsonl"}


def _plain(r: httpx.Response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["title"] and "Traceback" not in r.text
    return err  # type: ignore[no-any-return]


def _names(client: httpx.Client, **params: str) -> list[str]:
    return [p["name"] for p in client.get("/api/presets", params=params).json()["presets"]]


@pytest.fixture
def studio(tmp_path: Path, fresh_home: Path) -> Iterator[SimulatedStudio]:
    """The studio on a GPU box with an RTX 4090 (simulated by the library)."""
    with simulated_studio(tmp_path, simulated_hardware("RTX 4090")) as s:
        yield s


def test_save_search_filter_open_download_import_delete(client: httpx.Client, studio: Studio) -> None:
    assert client.post("/api/presets", json={**WIZARD, "name": "Pirates 🏴‍☠️", "tags": ["demo", "Pirate"],
                                             "notes": "arr"}).status_code == 201
    assert client.post("/api/presets", json={**WIZARD, "profile": "summarization", "name": "Steps",
                                             "tags": ["work"]}).status_code == 201
    assert _names(client) == ["Steps", "Pirates 🏴‍☠️"]
    assert _names(client, search="ARR") == ["Pirates 🏴‍☠️"] and _names(client, tag="pirate") == ["Pirates 🏴‍☠️"]
    assert _names(client, profile="summarization") == ["Steps"] and _names(client, search="nothing like it") == []
    filters = client.get("/api/presets").json()["filters"]
    assert filters == {"profiles": ["chatbot", "summarization"], "models": ["builtin:tiny-llama"],
                       "tags": ["demo", "Pirate", "work"]}

    one = client.get("/api/presets/one", params={"name": "Pirates 🏴‍☠️"}).json()
    wizard = one["wizard"]
    assert wizard["profile"] == "chatbot" and wizard["data"] == "sample:pirate_chat.jsonl"
    assert wizard["overrides"]["precision"] == "bf16" and wizard["name"] == "Pirates 🏴‍☠️"  # planned on the 4090

    file = client.get("/api/presets/download", params={"name": "Pirates 🏴‍☠️"})
    assert file.status_code == 200 and "attachment" in file.headers["content-disposition"]
    disposition = file.headers["content-disposition"]
    assert 'filename="Pirates.preset.json"' in disposition and "''Pirates%20%F0%9F%8F%B4" in disposition
    assert json.loads(file.text)["kind"] == "preset"

    # imported on this same machine under another name: nothing to adjust
    checked = client.post("/api/presets/import/check", params={"name": "Copy"}, content=file.content).json()
    assert checked["adjustments"] == [] and checked["replaced"] is False and _names(client).count("Copy") == 0
    assert client.post("/api/presets/import", params={"name": "Copy"}, content=file.content).status_code == 201
    assert _names(client)[0] == "Copy"
    assert client.delete("/api/presets", params={"name": "Copy"}).json() == {"deleted": "Copy"}
    assert "Copy" not in _names(client)


def test_import_on_a_smaller_machine_lists_the_adjustments_first(client: httpx.Client, studio: SimulatedStudio) -> None:
    client.post("/api/presets", json={**WIZARD, "name": "Big"})
    file = client.get("/api/presets/download", params={"name": "Big"}).content
    client.delete("/api/presets", params={"name": "Big"})
    studio.set_hardware(simulated_hardware())  # a laptop without a GPU
    checked = client.post("/api/presets/import/check", content=file).json()
    [adj] = checked["adjustments"]
    assert adj["setting"] == "training.precision" and (adj["old"], adj["new"]) == ("bf16", "fp32")
    assert adj["label"] == "Precision" and "GPU" in adj["reason"]
    assert _names(client) == []  # nothing stored by the check
    stored = client.post("/api/presets/import", content=file)
    assert stored.status_code == 201 and stored.json()["preset"]["config"]["training"]["precision"] == "fp32"
    again = client.post("/api/presets/import/check", content=file).json()
    assert again["replaced"] is True
    _plain(client.post("/api/presets/import", content=file), 422, "config_invalid")  # exists: not replaced
    assert client.post("/api/presets/import", params={"replace": "true"}, content=file).status_code == 201


def test_save_a_finished_run_as_a_preset(client: httpx.Client) -> None:
    store = open_store()
    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="x.jsonl"),
                    training=TrainingSettings(learning_rate=1e-3))
    done, running = store.create_run(cfg, name="done").id, store.create_run(cfg, name="busy").id
    store.update_run(done, status="completed")
    r = client.post("/api/presets/from-run", json={"run_id": done, "name": "From a run", "tags": ["lr"]})
    assert r.status_code == 201 and r.json()["config"]["training"]["learning_rate"] == 1e-3
    wizard = client.get("/api/presets/one", params={"name": "From a run"}).json()["wizard"]
    assert wizard["data"] is None and "x.jsonl" in wizard["notes"][0] and wizard["overrides"]["learning_rate"] == 1e-3
    _plain(client.post("/api/presets/from-run", json={"run_id": running, "name": "No"}), 422, "config_invalid")
    _plain(client.post("/api/presets/from-run", json={"run_id": "nothing", "name": "No"}), 404, "run_not_found")
    assert _names(client) == ["From a run"]


def _config(**model: object) -> dict:  # type: ignore[type-arg]
    return {"profile": "chatbot", "model": {"reference": "builtin:tiny-llama", **model}, "data": {"path": "c.jsonl"}}


def _file(**extra: object) -> bytes:
    return json.dumps({"schema_version": 2, "kind": "preset", "name": "shared", "config": _config(), **extra}).encode()


HOSTILE = {
    "bad JSON": b'{"name": "x", ',
    "not UTF-8": b'\xff\xfe{"name": 1}',
    "a list": b"[1, 2, 3]",
    "another kind": json.dumps({"kind": "run", "name": "x"}).encode(),
    "wrong schema": _file(config={"profile": "chatbot", "model": "builtin:tiny-llama", "data": {"path": "c.jsonl"}}),
    "unknown key": _file(evil=True),
    "newer format": _file(schema_version=99),
    "deep nesting": b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "NUL in a path": _file(config={**_config(), "data": {"path": "a\u0000b.jsonl"}}),
    "a fake fingerprint": _file(dataset={"path": "/etc/passwd", "sha256": "../../etc", "rows": 1}),
    "empty": b"",
}


@pytest.mark.parametrize("what", list(HOSTILE))
@pytest.mark.parametrize("endpoint", ["/api/presets/import/check", "/api/presets/import"])
def test_a_broken_or_hostile_file_is_a_plain_error_and_changes_nothing(client: httpx.Client, what: str,
                                                                       endpoint: str) -> None:
    r = client.post(endpoint, content=HOSTILE[what])
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]["code"] in ("config_invalid", "newer_format") and "Traceback" not in r.text
    assert _names(client) == [] and client.get("/api/presets").status_code == 200


def test_a_huge_file_is_refused_before_it_is_read(client: httpx.Client) -> None:
    huge = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    err = _plain(client.post("/api/presets/import/check", content=huge), 422, "config_invalid")
    assert "a preset may be" in err["explanation"]
    assert _names(client) == []


def test_trust_remote_code_is_turned_off_and_paths_are_only_text(client: httpx.Client) -> None:
    file = _file(config={**_config(trust_remote_code=True), "data": {"path": "/etc/shadow"}})
    checked = client.post("/api/presets/import/check", content=file).json()
    assert checked["adjustments"][0]["setting"] == "model.trust_remote_code"
    assert checked["preset"]["config"]["model"]["trust_remote_code"] is False
    client.post("/api/presets/import", content=file)
    wizard = client.get("/api/presets/one", params={"name": "shared"}).json()["wizard"]
    assert wizard["data"] is None  # a path outside the data folders never reaches the wizard


@pytest.mark.parametrize(("method", "path", "params", "code"), [
    ("get", "/api/presets/one", {"name": "nothing"}, "item_not_found"),
    ("get", "/api/presets/one", {}, "config_invalid"),
    ("get", "/api/presets/download", {"name": "nothing"}, "item_not_found"),
    ("delete", "/api/presets", {"name": "nothing"}, "item_not_found"),
    ("get", "/api/presets", {"search": "x" * 500}, "config_invalid"),
    ("post", "/api/presets/import/check", {"name": ""}, "config_invalid"),
    ("post", "/api/presets/import", {"name": "a\u0000b"}, "config_invalid"),
    ("post", "/api/presets/import", {"replace": "perhaps"}, "config_invalid"),
])
def test_bad_input_is_a_plain_error(client: httpx.Client, method: str, path: str, params: dict, code: str) -> None:  # type: ignore[type-arg]
    r = client.request(method.upper(), path, params=params, content=_file() if method == "post" else None)
    assert r.status_code >= 400 and r.json()["error"]["code"] == code, r.text
    assert _names(client) == []


def test_bad_json_bodies_are_plain(client: httpx.Client) -> None:
    _plain(client.post("/api/presets/from-run", content=b"{nope", headers={"content-type": "application/json"}),
           422, "config_invalid")
    _plain(client.post("/api/presets/from-run", json={"run_id": "x"}), 422, "config_invalid")
    _plain(client.post("/api/presets", json={**WIZARD, "name": "x", "tags": "notalist"}), 422, "config_invalid")


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/presets"), ("get", "/api/presets/one?name=x"), ("get", "/api/presets/download?name=x"),
    ("post", "/api/presets/import/check"), ("post", "/api/presets/import"), ("post", "/api/presets/from-run"),
    ("delete", "/api/presets?name=x"),
])
def test_without_the_sign_in_cookie_nothing_is_read_or_changed(studio: Studio, method: str, path: str) -> None:
    with studio.client(signed_in=False) as anon:
        _plain(anon.request(method.upper(), path, content=_file()), 401, "sign_in_needed")


@pytest.mark.parametrize("path", ["/api/presets/import", "/api/presets/import/check", "/api/presets/from-run"])
def test_another_sites_page_cannot_import_or_save(client: httpx.Client, path: str) -> None:
    _plain(client.post(path, content=_file(), headers={"origin": "http://evil.example"}), 403, "request_refused")
    client.post("/api/presets", json={**WIZARD, "name": "Kept"})
    _plain(client.delete("/api/presets", params={"name": "Kept"}, headers={"origin": "http://evil.example"}),
           403, "request_refused")
    assert _names(client) == ["Kept"]
