"""The compare API: the table of finished runs sorted by any column, 2-5 runs compared (charts aligned by
step with the best run per metric, as the library decides it; the settings that differ), a run's settings as
the wizard's choices; bad input answered with plain errors, sign-in refusals. The runs are written to the
store the way the engine writes them (metrics per step, a summary at the end)."""

from __future__ import annotations

import httpx
import pytest

from peftstudio.records import DataSettings, ModelChoice, RunConfig, TrainingSettings
from peftstudio.store import open_store
from tests.server.conftest import Studio


def _run(name: str, lr: float, losses: list[float], *, status: str = "completed", data: str = "x.jsonl") -> str:
    store = open_store()
    cfg = RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"), data=DataSettings(path=data),
                    training=TrainingSettings(learning_rate=lr, max_steps=len(losses)))
    rid = store.create_run(cfg, name=name).id
    for step, loss in enumerate(losses, 1):
        store.add_metrics(rid, step, {"loss": loss, "val_loss": loss + 0.1, "learning_rate": lr}, tokens_seen=step * 100)
    store.update_run(rid, status=status, elapsed_seconds=10.0 * len(losses))
    return rid


@pytest.fixture
def three(studio: Studio) -> list[str]:
    return [_run("fast", 1e-3, [3.0, 2.0, 1.5]), _run("slow", 1e-4, [3.0, 2.8, 2.6]),
            _run("mid", 3e-4, [3.0, 2.4, 1.9, 1.7])]


def _plain(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and "Traceback" not in r.text


def test_the_table_sorts_by_any_column_best_first(client: httpx.Client, three: list[str]) -> None:
    _run("still running", 1e-3, [3.0], status="running")
    data = client.get("/api/compare/runs", params={"sort": "final_val_loss"}).json()
    assert [r["name"] for r in data["rows"]] == ["fast", "mid", "slow"]  # lower is better: the best first
    assert data["lower_is_better"]["final_val_loss"] is True and data["lower_is_better"]["date"] is None
    flipped = client.get("/api/compare/runs", params={"sort": "final_val_loss", "descending": "true"}).json()
    assert [r["name"] for r in flipped["rows"]] == ["slow", "mid", "fast"]
    # the order the rows came in, for the page's sort arrows: best first is ascending for a loss, descending
    # for a score (the page cannot guess it from a request that left the direction to the server)
    assert (data["descending"], flipped["descending"]) == (False, True)
    assert client.get("/api/compare/runs", params={"sort": "quality_score"}).json()["descending"] is True
    assert client.get("/api/compare/runs", params={"sort": "forgotten_answers"}).json()["descending"] is False
    assert [r["name"] for r in client.get("/api/compare/runs", params={"sort": "name"}).json()["rows"]] == \
        ["fast", "mid", "slow"]


def test_compare_marks_the_best_run_per_metric_and_lists_the_differences(client: httpx.Client, three: list[str]) -> None:
    fast, slow, mid = three
    c = client.get("/api/compare", params={"runs": [slow, fast, mid]}).json()
    assert c["run_ids"] == [slow, fast, mid]
    charts = {ch["name"]: ch for ch in c["charts"]}
    assert charts["val_loss"]["best_run_id"] == fast and charts["val_loss"]["lower_is_better"] is True
    assert charts["learning_rate"]["best_run_id"] is None  # no "better" for a learning rate
    assert charts["loss"]["steps"] == [1, 2, 3, 4] and charts["loss"]["by_step"][fast][3] is None
    assert c["best"]["final_val_loss"] == fast and c["best"]["duration_seconds"] in (fast, slow)
    paths = {d["path"]: d["values"] for d in c["differences"]}
    assert paths["training.learning_rate"] == [1e-4, 1e-3, 3e-4] and "model.reference" not in paths


def test_train_again_gives_the_wizards_choices(client: httpx.Client, studio: Studio, three: list[str]) -> None:
    wizard = client.get(f"/api/runs/{three[0]}/clone").json()["wizard"]
    assert (wizard["profile"], wizard["model"]) == ("chatbot", "builtin:tiny-llama")
    assert wizard["overrides"]["learning_rate"] == 1e-3 and wizard["overrides"]["max_steps"] == 3
    assert wizard["data"] is None and wizard["notes"]  # x.jsonl is not on this server: chosen again
    here = studio.data_dir / "chat.jsonl"
    here.write_text('{"messages": []}\n')
    rid = _run("here", 1e-3, [1.0], data=str(here))
    assert client.get(f"/api/runs/{rid}/clone").json()["wizard"]["data"] == str(here.resolve())
    from peftstudio.data import sample_path

    rid = _run("sample", 1e-3, [1.0], data=str(sample_path("pirate_chat.jsonl")))
    assert client.get(f"/api/runs/{rid}/clone").json()["wizard"]["data"] == "sample:pirate_chat.jsonl"


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("/api/compare/runs", {"sort": "nonsense"}, 422, "config_invalid"),
    ("/api/compare/runs", {"descending": "maybe"}, 422, "config_invalid"),
    ("/api/compare", {}, 422, "config_invalid"),
    ("/api/compare", {"runs": ["a"]}, 422, "config_invalid"),
    ("/api/compare", {"runs": ["a", "b", "c", "d", "e", "f"]}, 422, "config_invalid"),
    ("/api/compare", {"runs": ["nothing", "nothing-else"]}, 404, "run_not_found"),
    ("/api/compare", {"runs": ["x" * 300, "y"]}, 422, "config_invalid"),
    ("/api/runs/nothing/clone", {}, 404, "run_not_found"),
])
def test_bad_input_is_a_plain_error(client: httpx.Client, three: list[str], path: str, params: dict,  # type: ignore[type-arg]
                                    status: int, code: str) -> None:
    _plain(client.get(path, params=params), status, code)
    assert client.get("/api/compare/runs").status_code == 200  # and keeps serving


def test_the_same_run_twice_is_refused(client: httpx.Client, three: list[str]) -> None:
    _plain(client.get("/api/compare", params={"runs": [three[0], three[0]]}), 422, "config_invalid")


@pytest.mark.parametrize("path", ["/api/compare/runs", "/api/compare?runs=a&runs=b", "/api/runs/a/clone"])
def test_without_the_sign_in_cookie_nothing_is_read(studio: Studio, path: str) -> None:
    with studio.client(signed_in=False) as anon:
        _plain(anon.get(path), 401, "sign_in_needed")


def test_a_foreign_host_is_refused(client: httpx.Client, three: list[str]) -> None:
    _plain(client.get("/api/compare/runs", headers={"host": "evil.example"}), 403, "request_refused")
