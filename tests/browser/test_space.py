"""The disk-space prompt in Chromium: starting a run on a disk that is short (simulated: the library's free-space
reading says 0 bytes until the oldest version is gone, and the margin kept free is 10 % only) opens the
``disk_full`` dialog; its "Archive or delete old model versions" lists the inactive versions with what archiving
and deleting each frees and the suggested one; deleting it (after a confirmation) makes room, and Try again
starts the run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from peftstudio.history import create_version
from peftstudio.history.versions import get_version
from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.store import open_store
from tests.browser.conftest import open_page
from tests.server.conftest import Studio

LINE = "builtin:tiny-llama [chatbot]"


def _version(tmp_path: Path, n: int) -> str:
    """A version of the tiny-llama chatbot line whose adapter is 6 MB of random bytes (archiving frees little)."""
    store = open_store()
    config = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path="c.jsonl"))
    rid = store.create_run(config, name=f"run {n}").id
    adapter = tmp_path / f"adapter{n}"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(os.urandom(6 * 2**20))
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    return create_version(rid, adapter, metrics={"val_loss": 2.0 - n / 10}).id


def test_the_disk_prompt_clears_the_suggested_version_and_tries_again(
        chromium: object, live: Studio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    v1, v2, v3 = (_version(tmp_path, n) for n in (1, 2, 3))  # v3, the newest, is the active one

    oldest = Path(get_version(v1).path)

    def free(path: object = None) -> int:  # a disk with no room until v1's files are gone
        return 0 if oldest.exists() else 2**40

    monkeypatch.setattr("peftstudio.history.disk.free_space", free)
    monkeypatch.setattr("peftstudio.history.disk.MIN_MARGIN_BYTES", 0)  # the margin: 10 % of the need
    with live.client() as c:
        r = c.post("/api/presets", json={"profile": "chatbot", "model": "builtin:tiny-llama", "name": "short disk",
                                         "data": "sample:pirate_chat.jsonl", "overrides": {"max_steps": 2}})
        assert r.status_code == 201, r.text
    page: Any = open_page(chromium, live, hash="#/new?preset=short%20disk")
    page.get_by_role("heading", name="Review").wait_for()
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_enabled(timeout=60_000)  # the preset's data checked again first
    start.click()
    dialog = page.get_by_role("dialog", name="Not enough disk space")
    expect(dialog).to_contain_text("this run's checkpoints and model version")
    dialog.get_by_role("button", name="Archive or delete old model versions").click()
    prompt = dialog.get_by_role("region", name="Free disk space")
    expect(prompt.get_by_test_id("space-summary")).to_contain_text("but only 0 B is free")
    versions = prompt.get_by_role("list", name="Older model versions")
    expect(versions.get_by_role("listitem")).to_have_count(2)  # v1 and v2; never the active v3
    first, second = versions.get_by_role("listitem", name=f"v1 of {LINE}"), versions.get_by_role(
        "listitem", name=f"v2 of {LINE}")
    expect(first).to_contain_text("suggested")
    expect(second).not_to_contain_text("suggested")
    expect(prompt).to_contain_text("Suggested: delete v1, which frees enough.")
    expect(first.get_by_role("button", name="Archive v1 (frees little)")).to_be_visible()  # random bytes
    expect(first.get_by_role("button", name="Delete v1 (frees 6.3 MB)")).to_be_visible()
    assert dialog.get_by_role("button", name="Try again").count() == 1  # the prompt's own, not a second one

    first.get_by_role("button", name="Delete v1 (frees 6.3 MB)").click()
    first.get_by_role("group", name="Delete v1?").get_by_role("button", name="Delete v1 for good").click()
    expect(prompt.get_by_test_id("space-summary")).to_contain_text("There is enough free space now")
    expect(prompt).to_contain_text("Deleted v1 of builtin:tiny-llama [chatbot]: 6.3 MB freed.")
    with live.client() as c:
        states = {v["id"]: v["state"] for v in c.get("/api/versions").json()["lines"][0]["versions"]}
    assert states == {v2: "ready", v3: "ready"}  # v1 gone; v2 kept; the active v3 untouched
    prompt.get_by_role("button", name="Try again").click()
    page.get_by_role("heading", name="short disk").wait_for()  # the run started: its dashboard
    expect(dialog).to_have_count(0)
    with live.client() as c:
        assert [r["name"] for r in c.get("/api/runs").json()["runs"]].count("short disk") == 1  # started once
