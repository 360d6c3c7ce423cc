"""A model from the server's own disk (POST /api/models/local): a model folder or a .gguf file is listed as the
model step lists the others, and its path plans and names the run's model; anything else (no path, a relative
one, one that is not there, a plain file, a folder without config.json, a .gguf that is not one, a pipe, an
unreadable folder, an unknown use case) gets a plain message, and the server keeps serving."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from peftstudio.models import model_folder, smollm2_gguf_path
from tests.server.test_api import _plain


def _local(client: httpx.Client, path: object, profile: str = "chatbot") -> httpx.Response:
    return client.post("/api/models/local", json={"path": path, "profile": profile})


def test_a_model_folder_is_listed_and_plans_the_run(client: httpx.Client) -> None:
    folder = str(model_folder("builtin:tiny-llama"))
    option = _local(client, folder).json()
    assert option["reference"] == str(Path(folder).resolve()) and option["kind"] == "folder"
    assert option["fits"] is True and option["builtin"] is False and option["estimated_peak_bytes"] > 0
    assert option["title"] == Path(folder).name and "folder on the server" in option["about"]
    plan = client.post("/api/plan", json={"profile": "chatbot", "model": option["reference"]}).json()
    assert plan["model"] == option["reference"]


def test_a_gguf_file_is_listed(client: httpx.Client) -> None:
    from peftstudio.errors import PlainError

    try:
        gguf = smollm2_gguf_path()
    except PlainError:
        pytest.skip("SmolLM2's GGUF file is not installed (make setup installs it)")
    option = _local(client, str(gguf)).json()
    assert option["kind"] == "gguf" and option["reference"] == str(Path(gguf).resolve())
    assert option["fits"] is True and "converted once" in option["about"]


def test_bad_paths_get_plain_messages(client: httpx.Client, tmp_path: Path) -> None:
    _plain(client.post("/api/models/local", json={"profile": "chatbot"}), 422, "config_invalid")
    _plain(client.post("/api/models/local", json={"path": "/tmp"}), 422, "config_invalid")
    _plain(_local(client, 42), 422, "config_invalid")
    _plain(_local(client, "   "), 422, "config_invalid")
    _plain(_local(client, "/x" * 3000), 422, "config_invalid")
    assert "NUL" in _plain(_local(client, "/tmp/a\x00b"), 422, "config_invalid")["explanation"]
    assert "full path" in _plain(_local(client, "models/mine"), 400, "model_path_invalid")["explanation"]
    assert "profile" in _plain(_local(client, "/tmp", profile="nope"), 422, "config_invalid")["explanation"]
    err = _plain(_local(client, str(tmp_path / "not-there")), 404, "file_not_found")
    assert "not-there" in err["explanation"]
    # a path that climbs out of somewhere is just a path on the server: here, a plain file that is no model
    traversal = f"{tmp_path}/../../../../../../etc/passwd"
    assert "not a .gguf" in _plain(_local(client, traversal), 400, "model_path_invalid")["explanation"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "without config.json" in _plain(_local(client, str(empty)), 400, "model_path_invalid")["explanation"]
    odd = tmp_path / "odd"
    (odd / "config.json").mkdir(parents=True)
    assert "not a file" in _plain(_local(client, str(odd)), 400, "model_path_invalid")["explanation"]
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model", encoding="utf-8")
    assert "not a GGUF file" in _plain(_local(client, str(fake)), 400, "model_path_invalid")["explanation"]
    pipe = tmp_path / "pipe.gguf"
    os.mkfifo(pipe)  # never opened: reading it would wait for a writer forever
    assert "neither a file nor a folder" in _plain(_local(client, str(pipe)), 400,
                                                   "model_path_invalid")["explanation"]
    assert _local(client, str(model_folder("builtin:tiny-llama"))).status_code == 200  # still serving


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder whatever its permissions")
def test_an_unreadable_folder_is_refused(client: httpx.Client, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "config.json").write_text("{}", encoding="utf-8")
    locked.chmod(0)
    try:
        err = _plain(_local(client, str(locked)), 400, "model_path_invalid")
        assert "may not read" in err["explanation"] or "cannot be read" in err["explanation"]
    finally:
        locked.chmod(0o755)
