"""The versions API: timeline with metrics, changes and sizes; set active, archive, restore, delete; compare;
bad input answered with plain errors while the server keeps serving. Versions are made by the library's own
`create_version` from a run's adapter folder (the browser test makes them by real training)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from peftstudio.history import create_version
from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.store import open_store


def _version(tmp_path: Path, n: int, val_loss: float, lr: float) -> str:
    store = open_store()
    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="c.jsonl"),
                       training=TrainingSettings(learning_rate=lr))
    rid = store.create_run(config, name=f"run {n}").id
    adapter = tmp_path / f"adapter{n}"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"\0" * 50_000)  # compresses well
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    return create_version(rid, adapter, metrics={"val_loss": val_loss}).id


@pytest.fixture
def two(tmp_path: Path, studio) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return _version(tmp_path, 1, 2.0, 3e-4), _version(tmp_path, 2, 1.5, 1e-4)


def _origin(client: httpx.Client) -> dict[str, str]:
    return {"origin": str(client.base_url).rstrip("/")}


def test_the_timeline_shows_metrics_changes_sizes_and_the_active_one(client: httpx.Client, two) -> None:  # type: ignore[no-untyped-def]
    v1, v2 = two
    data = client.get("/api/versions").json()
    [line] = data["lines"]
    assert line["line"] == "builtin:tiny-llama [chatbot]" and line["active"] == v2
    assert [v["label"] for v in line["versions"]] == ["v1", "v2"]
    assert line["versions"][1]["deltas"] == {"val_loss": -0.5} and line["versions"][1]["previous_id"] == v1
    assert all(v["size_bytes"] > 50_000 for v in line["versions"]) and "path" not in line["versions"][0]
    assert data["free_bytes"] > 0 and data["lower_is_better"] == {"val_loss": True}
    c = client.get("/api/versions/compare", params={"a": v1, "b": v2}).json()
    assert c["metric_deltas"] == {"val_loss": -0.5}
    assert {"path": "training.learning_rate", "values": [0.0003, 0.0001]} in c["differences"]


def test_set_active_archive_restore_delete(client: httpx.Client, two) -> None:  # type: ignore[no-untyped-def]
    v1, v2 = two
    h = _origin(client)
    assert client.post(f"/api/versions/{v1}/activate", headers=h).json()["active"] is True
    assert client.get("/api/versions").json()["lines"][0]["active"] == v1
    archived = client.post(f"/api/versions/{v2}/archive", headers=h).json()
    assert archived["state"] == "archived" and archived["size_bytes"] < 50_000  # one compressed file now
    restored = client.post(f"/api/versions/{v2}/restore", headers=h).json()
    assert restored["state"] == "ready" and restored["size_bytes"] > 50_000
    gone = client.delete(f"/api/versions/{v1}", headers=h).json()
    assert gone["deleted"]["id"] == v1 and gone["freed_bytes"] > 50_000
    assert [v["id"] for v in client.get("/api/versions").json()["lines"][0]["versions"]] == [v2]


@pytest.mark.parametrize(("method", "path", "code"), [
    ("get", "/api/versions/v9-nothing", "item_not_found"),
    ("post", "/api/versions/v9-nothing/activate", "item_not_found"),
    ("post", "/api/versions/..%2F..%2Fetc/archive", "request_refused"),  # no route: refused, nothing read
    ("post", "/api/versions/..%2A/archive", "item_not_found"),
    ("delete", "/api/versions/v9-nothing", "item_not_found"),
    ("get", "/api/versions/compare?a=v1", "config_invalid"),
    ("get", "/api/versions/compare?a=v1&b=v9-nothing", "item_not_found"),
    ("get", "/api/versions/space?needed_bytes=-1", "config_invalid"),
    ("get", "/api/versions/space?needed_bytes=lots", "config_invalid"),
    ("get", "/api/versions/space?needed_bytes=1.5", "config_invalid"),
    ("get", f"/api/versions/space?needed_bytes={2**61}", "config_invalid"),
    ("post", "/api/versions/space", "request_refused"),
])
def test_bad_input_is_a_plain_error(client: httpx.Client, two, method: str, path: str, code: str) -> None:  # type: ignore[no-untyped-def]
    r = client.request(method.upper(), path, headers=_origin(client))
    assert r.status_code >= 400 and r.json()["error"]["code"] == code, r.text
    assert "Traceback" not in r.text
    assert client.get("/api/versions").status_code == 200  # and keeps serving


def test_refusals_change_nothing(client: httpx.Client, studio, two) -> None:  # type: ignore[no-untyped-def]
    v1, v2 = two
    h = _origin(client)
    r = client.post(f"/api/versions/{v1}/restore", headers=h)  # a ready version: nothing to restore
    assert r.status_code == 422 and "not archived" in r.json()["error"]["explanation"]
    client.post(f"/api/versions/{v1}/archive", headers=h)
    r = client.post(f"/api/versions/{v1}/activate", headers=h)  # archived: restore first
    assert r.status_code == 422 and "restore it" in r.json()["error"]["explanation"]
    assert client.post(f"/api/versions/{v2}/archive", headers={"origin": "http://evil.example"}).status_code == 403
    with studio.client(signed_in=False) as anonymous:
        assert anonymous.delete(f"/api/versions/{v2}", headers=h).status_code == 401
    states = {v["id"]: v["state"] for v in client.get("/api/versions").json()["lines"][0]["versions"]}
    assert states == {v1: "archived", v2: "ready"}


def test_the_space_prompt_lists_what_each_version_frees_and_a_suggested_set(
        client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    v1, v2 = _version(tmp_path, 1, 2.0, 3e-4), _version(tmp_path, 2, 1.9, 3e-4)
    v3 = _version(tmp_path, 3, 1.5, 1e-4)  # the newest: the active one, never offered
    free = {"bytes": 10 * 2**20}
    monkeypatch.setattr("peftstudio.history.disk.free_space", lambda path=None: free["bytes"])
    size = client.get(f"/api/versions/{v1}").json()["size_bytes"]
    short = client.get("/api/versions/space", params={"needed_bytes": free["bytes"] + size // 2}).json()
    assert short["enough"] is False and short["missing_bytes"] == size // 2 and short["free_bytes"] == free["bytes"]
    assert [c["version_id"] for c in short["candidates"]] == [v1, v2] and v3 not in short["suggested"]
    assert short["suggested"] == [v1] and short["enough_if_all_deleted"] is True  # the oldest frees enough
    first = short["candidates"][0]
    assert first["label"] == "v1" and first["frees_if_deleted"] == size and 0 < first["frees_if_archived"] < size
    assert client.get("/api/versions/space", params={"needed_bytes": free["bytes"] + 3 * size}).json()[
        "suggested"] == []  # even all of them would not free enough: nothing suggested
    listing = client.get("/api/versions/space").json()  # the need not known: every candidate, none suggested
    assert listing["enough"] is None and listing["suggested"] == [] and len(listing["candidates"]) == 2
    free["bytes"] = 2**40
    enough = client.get("/api/versions/space", params={"needed_bytes": 2**30}).json()
    assert enough["enough"] is True and enough["candidates"] == [] and enough["missing_bytes"] == 0
