"""Every endpoint, with bad input: answers are plain JSON (never a traceback) and the server keeps serving."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Studio

CHAT = "".join(json.dumps({"messages": [{"role": "user", "content": f"question {i} 你好 مرحبا 👋"},
                                        {"role": "assistant", "content": f"answer {i} 世界 شكرا"}]}) + "\n"
               for i in range(40))


def _code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def _plain(r: httpx.Response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert err["code"] == code and err["title"] and err["explanation"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return err  # type: ignore[no-any-return]


def _upload(client: httpx.Client, name: str, body: bytes | str) -> dict:  # type: ignore[type-arg]
    r = client.post("/api/data/uploads", params={"name": name},
                    content=body.encode() if isinstance(body, str) else body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_runs_list_and_unknown_run(client: httpx.Client) -> None:
    assert client.get("/api/runs").json() == {"runs": []}
    err = _plain(client.get("/api/runs/nope"), 404, "run_not_found")
    assert err["actions"] and err["help_url"] == "errors#run-not-found"
    _plain(client.post("/api/runs/nope/pause"), 404, "run_not_found")
    _plain(client.post("/api/runs/nope/resume"), 404, "run_not_found")
    _plain(client.get("/api/runs/nope/fixes"), 404, "run_not_found")
    _plain(client.get("/api/runs/nope/stream"), 404, "run_not_found")


def test_settings_schema_glossary_help_about(client: httpx.Client) -> None:
    settings = client.get("/api/settings").json()["settings"]
    assert {"learning_rate", "lora_rank"} <= {s["key"] for s in settings}
    terms = client.get("/api/glossary").json()["terms"]
    assert any(t["term"] == "LoRA" for t in terms)
    assert client.get("/api/glossary/learning rate").json()["term"] == "Learning rate"
    _plain(client.get("/api/glossary/no such word"), 404, "item_not_found")
    assert "errors" in client.get("/api/help").json()["topics"]
    page = client.get("/api/help/disk_full").json()
    assert page["page"] == "errors" and page["anchor"] == "disk-full" and page["markdown"]
    _plain(client.get("/api/help/..%2F..%2Fetc%2Fpasswd"), 404, "item_not_found")
    _plain(client.get("/api/help/nope"), 404, "item_not_found")
    assert client.get("/api/about").json()["name"] == "PEFT Studio"
    assert "/api/runs/{run_id}/stream" in client.get("/api/openapi.json").json()["paths"]


def test_unknown_routes_and_methods_are_plain(client: httpx.Client) -> None:
    _plain(client.get("/api/nothing-here"), 404, "item_not_found")
    _plain(client.delete("/api/runs"), 405, "request_refused")
    # the page itself: every other path serves the page (built or the "not built" note)
    assert client.get("/wizard/data").status_code == 200


def test_hardware_profiles_models(client: httpx.Client) -> None:
    assert "cpu_cores" in client.get("/api/hardware").json()
    profiles = client.get("/api/profiles").json()["profiles"]
    chat = next(p for p in profiles if p["id"] == "chatbot")
    assert chat["estimate"]["duration_seconds"]["min"] > 0
    assert chat["estimate"]["model_reason"]  # the same pick, and why, as `peftstudio profiles`
    models = client.get("/api/models", params={"profile": "chatbot"}).json()["models"]
    tiny = next(m for m in models if m["reference"] == "builtin:tiny-llama")
    assert tiny["fits"] is True and tiny["builtin"] is True
    _plain(client.get("/api/models"), 422, "config_invalid")
    assert client.get("/api/models", params={"profile": "nope"}).status_code in (404, 422, 400)


def test_plan_with_a_sample_and_bad_input(client: httpx.Client) -> None:
    body = {"profile": "chatbot", "model": "builtin:tiny-llama", "data": "sample:pirate_chat.jsonl",
            "overrides": {"lora_rank": 4}, "electricity_rate": 0.3, "currency": "EUR"}
    p = client.post("/api/plan", json=body).json()
    assert p["settings"]["lora_rank"]["value"] == 4 and p["settings"]["lora_rank"]["reason"]
    assert p["memory"]["fits"] is True and "co2_kg" in json.dumps(p["estimates"])
    _plain(client.post("/api/plan", json={**body, "overrides": {"lora_rank": -3}}), 422, "config_invalid")
    _plain(client.post("/api/plan", json={**body, "overrides": {"no_such": 1}}), 422, "config_invalid")
    _plain(client.post("/api/plan", json={"profile": "chatbot"}), 422, "config_invalid")
    _plain(client.post("/api/plan", content=b"{not json", headers={"content-type": "application/json"}),
           422, "config_invalid")
    _plain(client.post("/api/plan", json={**body, "data": "sample:nope.jsonl"}), 404, "file_not_found")
    _plain(client.post("/api/plan", json={**body, "machine": {"gpu": "no such gpu"}}), 422, "config_invalid")
    assert client.post("/api/plan", json={**body, "machine": {"gpu_memory_gb": 24}}).status_code == 200
    assert client.get("/api/runs").status_code == 200  # still serving


def test_upload_check_preview_and_fix(client: httpx.Client, studio: Studio) -> None:
    up = _upload(client, "chat 数据.jsonl", CHAT + CHAT.splitlines(keepends=True)[0] + "{broken\n")
    assert up["ref"].startswith("upload:") and up["name"] == "chat 数据.jsonl"
    r = client.post("/api/data/check", json={"data": up["ref"], "profile": "chatbot",
                                             "model": "builtin:tiny-llama"}).json()
    report = r["report"]
    assert report["format"] == "jsonl" and report["structure"]["name"] == "chat"
    codes = {f["code"] for f in report["findings"]}
    assert {"malformed_row", "exact_duplicate"} & codes
    assert r["preview"]["examples"] and "你好" in json.dumps(r["preview"], ensure_ascii=False)
    assert "مرحبا" in json.dumps(r["preview"], ensure_ascii=False)
    fixed = client.post("/api/data/fix", json={"data": up["ref"], "fixes": r["fix_ids"], "profile": "chatbot"})
    assert fixed.status_code == 200, fixed.text
    f = fixed.json()
    assert f["ref"] != up["ref"] and f["fix"]["rows_out"] < f["fix"]["rows_in"]
    assert not {"malformed_row", "exact_duplicate"} & {x["code"] for x in f["report"]["findings"]}
    _plain(client.post("/api/data/fix", json={"data": up["ref"], "fixes": []}), 422, "config_invalid")


def test_files_samples_and_data_folder(client: httpx.Client, studio: Studio) -> None:
    (studio.data_dir / "mine.jsonl").write_text(CHAT, encoding="utf-8")
    (studio.data_dir / ".hidden.jsonl").write_text(CHAT, encoding="utf-8")
    files = client.get("/api/data/files").json()
    assert "sample:pirate_chat.jsonl" in {s["ref"] for s in files["samples"]}
    assert [f["name"] for f in files["files"]] == ["mine.jsonl"]
    r = client.post("/api/data/check", json={"data": files["files"][0]["ref"]})
    assert r.status_code == 200 and r.json()["report"]["rows"] == 40


@pytest.mark.parametrize("ref", [
    "/etc/passwd", "{data}/../outside.jsonl", "{data}/link.jsonl", "relative.jsonl", "upload:../../etc/passwd",
    "upload:abcdefghijkl/../../outside.jsonl", "upload:abcdefghijkl/x\x00.jsonl", "{data}/x\x00.jsonl",
])
def test_path_traversal_is_refused(client: httpx.Client, studio: Studio, tmp_path: Path, ref: str) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.write_text(CHAT, encoding="utf-8")
    link = studio.data_dir / "link.jsonl"
    if not link.exists():
        link.symlink_to(outside)
    r = client.post("/api/data/check", json={"data": ref.format(data=studio.data_dir)})
    _plain(r, 403, "path_not_allowed")


def test_upload_names_cannot_escape(client: httpx.Client, studio: Studio) -> None:
    up = _upload(client, "../../../escape.jsonl", CHAT)
    assert up["name"] == "escape.jsonl"
    assert [p.name for p in studio.upload_dir.rglob("*.jsonl")] == ["escape.jsonl"]


def test_an_oversized_upload_is_refused_and_leaves_nothing(client: httpx.Client, studio: Studio) -> None:
    big = b"x" * (studio.settings.max_upload_bytes + 1)
    _plain(client.post("/api/data/uploads", params={"name": "big.jsonl"}, content=big), 413, "upload_too_large")

    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: the limit is counted while streaming
        for _ in range(30):
            yield b"y" * 10_000

    _plain(client.post("/api/data/uploads", params={"name": "big.jsonl"}, content=chunks()), 413,
           "upload_too_large")
    assert not studio.upload_dir.exists() or not any(studio.upload_dir.rglob("*"))
    _plain(client.post("/api/data/uploads", params={"name": "empty.jsonl"}, content=b""), 422, "config_invalid")
    _plain(client.post("/api/data/uploads", content=b"x"), 422, "config_invalid")
    assert _upload(client, "ok.jsonl", CHAT)["size_bytes"] == len(CHAT.encode())


def test_an_unexpected_failure_is_plain_and_the_server_keeps_serving(client: httpx.Client,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import peftstudio.glossary

    def boom() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(peftstudio.glossary, "GLOSSARY", property(boom))  # iterating it fails
    r = client.get("/api/glossary")
    err = _plain(r, 500, "internal_error")
    assert "secret internals" not in r.text and err["details"]["log_path"]
    monkeypatch.undo()
    assert client.get("/api/glossary").status_code == 200


def test_presets(client: httpx.Client) -> None:
    body = {"profile": "chatbot", "model": "builtin:tiny-llama", "data": "sample:pirate_chat.jsonl",
            "name": "Pirates 🏴‍☠️", "tags": ["demo"]}
    r = client.post("/api/presets", json=body)
    assert r.status_code == 201, r.text
    assert [p["name"] for p in client.get("/api/presets").json()["presets"]] == ["Pirates 🏴‍☠️"]
    assert client.post("/api/presets", json=body).status_code in (409, 422, 400)
    _plain(client.post("/api/presets", json={**body, "name": ""}), 422, "config_invalid")


def test_bad_stream_position_is_plain(client: httpx.Client) -> None:
    from peftstudio.records import DataSettings, ModelChoice, RunConfig
    from peftstudio.store import open_store

    rid = open_store().create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                            data=DataSettings(path="x.jsonl"))).id
    open_store().update_run(rid, status="completed")
    _plain(client.get(f"/api/runs/{rid}/stream", headers={"last-event-id": "garbage"}), 422, "config_invalid")
    r = client.get(f"/api/runs/{rid}/stream")
    assert r.status_code == 200 and "event: status" in r.text and "event: end" in r.text
    assert client.get(f"/api/runs/{rid}").json()["loss_zones"] is None


def test_notifications_follow_the_library(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from peftstudio.notify import PROGRESS_MILESTONES

    monkeypatch.setenv("PEFTSTUDIO_DND", "on")
    r = client.get("/api/notifications").json()
    assert r["milestones"] == list(PROGRESS_MILESTONES) and r["own_desktop"] is True
    assert set(r["defaults"]) >= {"progress", "completion", "errors", "warnings", "sound"}
    assert r["do_not_disturb"]["on"] is True  # the desktop says Do Not Disturb: the page stays quiet


def test_the_plan_follows_this_machines_own_speed(client: httpx.Client) -> None:
    """After a finished run on this machine, the studio's plan, its models and profiles use its speed."""
    from peftstudio.hardware import probe_hardware
    from peftstudio.history.speed import device_record
    from peftstudio.planner.estimates import CALIBRATED_BASIS
    from peftstudio.records import DataSettings, ModelChoice, RunConfig
    from peftstudio.store import open_store

    body = {"profile": "chatbot", "model": "builtin:tiny-llama", "data": "sample:pirate_chat.jsonl"}
    before = client.post("/api/plan", json=body).json()["estimates"]
    assert before["speed_basis"] == CALIBRATED_BASIS
    store = open_store()
    run = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                     data=DataSettings(path="x.jsonl")))
    slow = before["tokens_per_second"]["min"] / 4  # far below the calibrated range
    store.update_run(run.id, status="completed", summary={
        "tokens_per_second": slow, "steps": 40, "duration_seconds": 90.0,
        "device": device_record(probe_hardware(use_torch=False), 1)})
    after = client.post("/api/plan", json=body).json()["estimates"]
    assert after["speed_basis"] == "the speed this machine's last run reached"
    assert after["duration_seconds"]["min"] > 2 * before["duration_seconds"]["max"]
    models = client.get("/api/models", params={"profile": "chatbot"}).json()["models"]
    tiny = next(m for m in models if m["reference"] == "builtin:tiny-llama")
    assert tiny["duration_seconds"]["min"] > 2 * before["duration_seconds"]["min"]
    elsewhere = client.post("/api/plan", json={**body, "machine": {"gpu": "H100"}}).json()["estimates"]
    assert elsewhere["speed_basis"] == CALIBRATED_BASIS  # planning for a GPU this machine does not have
