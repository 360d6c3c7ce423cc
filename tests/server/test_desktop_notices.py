"""The library's desktop notifications sent by the studio server on this person's own desktop (loopback):
milestones, completion with its sound, urgent errors, the guards' warnings; the switches saved from the page
are respected; runs that ended before the server started stay quiet; a server beyond loopback sends none.

The runs are written through the store as a worker writes them; the notifier is the library's real
`RunNotifier` (on this test machine without a desktop its notices end as `no_bus`/`no_server`, or `shown`
where a desktop exists: each notice's decision is what is checked). The sound player is a recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from peftstudio.notify import NotifySettings, load_settings
from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.server import ServerSettings, create_app
from peftstudio.server.desktop import DesktopNotices
from peftstudio.store import open_store
from tests.server.conftest import SESSION, Studio, start_server

QUIET_DESKTOP = {"PEFTSTUDIO_DND": "off"}


def _run(name: str, status: str = "running", total: int = 8) -> str:
    store = open_store()
    rid = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                     data=DataSettings(path="chat.jsonl")), name=name).id
    store.update_run(rid, status=status, summary={"total_steps": total})
    return rid


def _train(rid: str, steps: range) -> None:
    store = open_store()
    for step in steps:
        store.add_metrics(rid, step, {"loss": 3.0 - step * 0.1})


def _notices(notices: DesktopNotices, rid: str) -> list[tuple[str, int | None, str]]:
    notices.flush()
    return [(d.notice.kind, d.notice.milestone, d.outcome) for d in notices.notifiers[rid].deliveries]


def test_a_run_is_told_at_its_milestones_and_end_with_the_sound(fresh_home: Path) -> None:
    sounds: list[int] = []
    old = _run("finished before")
    open_store().update_run(old, status="completed", summary={"total_steps": 8, "steps": 8})
    notices = DesktopNotices(environ=QUIET_DESKTOP, play_sound=lambda: sounds.append(1),
                             settings=lambda: NotifySettings(sound=True))
    try:
        notices.poll()  # the server starts: the finished run is history
        assert old not in notices.notifiers
        rid = _run("pirates 🏴‍☠️")
        notices.poll()
        assert old not in notices.notifiers
        _train(rid, range(1, 3))
        notices.poll()  # 2 of 8: 25 %
        _train(rid, range(3, 7))
        notices.poll()  # 4 and 6 of 8: 50 and 75
        open_store().add_event(rid, "overfitting", "The validation loss rose for 3 checks.", step=6,
                               data={"reason_message": "Overfitting", "suggestions": ["Stop early"]})
        _train(rid, range(7, 9))
        open_store().update_run(rid, status="completed", summary={"total_steps": 8, "steps": 8, "final_loss": 2.2})
        notices.poll()
        told = _notices(notices, rid)
        assert [(k, m) for k, m, _ in told] == [("progress", 25), ("progress", 50), ("progress", 75),
                                                 ("warning", None), ("completion", 100)]
        assert all(o != "switched_off" for _, _, o in told)
        body = notices.notifiers[rid].deliveries[-1].notice.body
        assert "8 steps" in body and "final loss 2.20" in body
        assert sounds == [1]
        notices.poll()  # nothing new: nothing said twice
        assert len(_notices(notices, rid)) == 5
    finally:
        notices.close()


def test_the_saved_switches_and_errors(fresh_home: Path) -> None:
    from peftstudio.notify import save_settings

    save_settings(NotifySettings(progress=False, sound=False))  # as the page's switches save them
    notices = DesktopNotices(environ=QUIET_DESKTOP, play_sound=lambda: pytest.fail("the sound is switched off"))
    try:
        notices.poll()
        rid = _run("broken")
        notices.poll()
        _train(rid, range(1, 5))
        open_store().update_run(rid, status="failed", error={
            "code": "out_of_memory", "title": "The GPU ran out of memory", "explanation": "Too big.",
            "actions": [], "help_anchor": "out-of-memory", "details": {}})
        notices.poll()
        told = _notices(notices, rid)
        assert told[:2] == [("progress", 25, "switched_off"), ("progress", 50, "switched_off")]  # the page's switch
        error = notices.notifiers[rid].deliveries[-1].notice
        assert error.kind == "error" and error.urgency == "critical"
        assert error.title == "Training stopped (broken): The GPU ran out of memory"
        assert notices.notifiers[rid].deliveries[-1].outcome != "switched_off"
    finally:
        notices.close()


def test_a_run_seen_half_way_announces_only_what_comes_next(fresh_home: Path) -> None:
    rid = _run("half way")
    _train(rid, range(1, 6))
    open_store().update_run(rid, summary={"total_steps": 8, "step": 5})
    notices = DesktopNotices(environ=QUIET_DESKTOP, settings=lambda: NotifySettings(sound=False))
    try:
        notices.poll()
        _train(rid, range(6, 8))
        notices.poll()
        assert [(k, m) for k, m, _ in _notices(notices, rid)] == [("progress", 75)]
    finally:
        notices.close()


def test_the_server_sends_them_on_loopback_only_and_saves_the_switches(fresh_home: Path, tmp_path: Path) -> None:
    remote = create_app(ServerSettings.create("0.0.0.0", 8765, desktop_notices=True))
    assert not ServerSettings.create("0.0.0.0", 8765, desktop_notices=True).desktop_notices
    assert remote.state.settings.desktop_notices is False
    settings = ServerSettings.create("127.0.0.1", 0, upload_dir=tmp_path / "up", session_key=SESSION,
                                     failure_delay_s=0.0, desktop_notices=True)
    url, settings, server, thread = start_server(settings)
    studio = Studio(url, settings, tmp_path, tmp_path / "up")
    try:
        with studio.client() as c:
            info = c.get("/api/notifications").json()
            assert info["desktop_notices"] is True and info["own_desktop"] is True
            r = c.put("/api/notifications/settings", json={"progress": False},
                      headers={"origin": url})
            assert r.status_code == 200 and r.json()["progress"] is False
            assert load_settings().progress is False and load_settings().completion is True
            assert c.get("/api/notifications").json()["defaults"]["progress"] is False
            bad = c.put("/api/notifications/settings", json={"progress": [1]}, headers={"origin": url})
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "config_invalid"
            assert "Traceback" not in bad.text
            foreign = c.put("/api/notifications/settings", json={"progress": True},
                            headers={"origin": "http://evil.example"})
            assert foreign.status_code == 403
            assert load_settings().progress is False  # nothing changed
        with studio.client(signed_in=False) as c:
            assert c.put("/api/notifications/settings", json={"progress": True}).status_code == 401
        (fresh_home / "notifications.json").write_text("{broken", encoding="utf-8")
        assert load_settings() == NotifySettings()  # a broken file reads as the defaults
        with studio.client() as c:
            assert c.get("/api/notifications").status_code == 200  # and keeps serving
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(timeout=10)
