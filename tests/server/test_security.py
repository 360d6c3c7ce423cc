"""The guard: sign-in by one-time token and cookie, Host allow-list, Origin on changes, no CORS, headers."""

from __future__ import annotations

import httpx
import pytest

from tests.server.conftest import LOGIN, SESSION, Studio


def _code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


@pytest.mark.parametrize("path", ["/api/runs", "/", "/api/settings", "/assets/index.js", "/api/openapi.json"])
def test_no_sign_in_is_401_with_a_plain_error(studio: Studio, path: str) -> None:
    with studio.client(signed_in=False) as c:
        r = c.get(path)
    assert r.status_code == 401 and _code(r) == "sign_in_needed"
    assert "Traceback" not in r.text


def test_a_wrong_cookie_or_bearer_is_401(studio: Studio) -> None:
    with httpx.Client(base_url=studio.url, cookies={"peftstudio_session": SESSION[:-1] + "x"}) as c:
        assert c.get("/api/runs").status_code == 401
    with httpx.Client(base_url=studio.url) as c:
        assert c.get("/api/runs", headers={"authorization": "Bearer nope"}).status_code == 401
        assert c.get("/api/runs", headers={"authorization": f"Bearer {SESSION}"}).status_code == 200


def test_the_token_is_exchanged_once_for_an_httponly_samesite_cookie(studio: Studio) -> None:
    with httpx.Client(base_url=studio.url) as c:
        r = c.get(f"/?token={LOGIN}&screen=home")
        assert r.status_code == 303 and r.headers["location"] == "/?screen=home"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and SESSION in cookie
        assert LOGIN not in cookie
        assert c.get("/api/runs").status_code == 200  # the cookie signs the client in
    with httpx.Client(base_url=studio.url) as c:
        again = c.get(f"/?token={LOGIN}")
        assert again.status_code == 401 and _code(again) == "sign_in_needed"  # one-time


def test_a_wrong_token_is_refused_and_does_not_burn_the_right_one(studio: Studio) -> None:
    with httpx.Client(base_url=studio.url) as c:
        assert c.get("/?token=guess").status_code == 401
        assert c.get(f"/?token={LOGIN}").status_code == 303


def test_failed_guesses_are_slowed(studio: Studio) -> None:
    from peftstudio.server.security import Guard

    guard = Guard(lambda *a: None, attrs_evolve(studio, failure_delay_s=0.05))  # type: ignore[arg-type]
    import asyncio
    import time

    t0 = time.monotonic()
    for _ in range(3):
        asyncio.run(guard._slow_down())
    assert time.monotonic() - t0 >= 0.05 + 0.10 + 0.15 - 0.01


def attrs_evolve(studio: Studio, **changes: object):  # type: ignore[no-untyped-def]
    import attrs

    return attrs.evolve(studio.settings, **changes)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", ""])
def test_a_foreign_host_is_refused(client: httpx.Client, host: str) -> None:
    r = client.get("/api/runs", headers={"host": host})
    assert r.status_code in (400, 403)
    if r.status_code == 403:
        assert _code(r) == "request_refused"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_names_are_allowed(studio: Studio, client: httpx.Client, host: str) -> None:
    port = studio.settings.port
    assert client.get("/api/runs", headers={"host": f"{host}:{port}"}).status_code == 200


def test_a_foreign_origin_cannot_change_anything(studio: Studio, client: httpx.Client) -> None:
    body = {"profile": "chatbot", "model": "builtin:tiny-llama"}
    for origin in ("http://evil.example", "null", f"http://localhost:{studio.settings.port + 1}"):
        r = client.post("/api/plan", json=body, headers={"origin": origin})
        assert r.status_code == 403 and _code(r) == "request_refused", origin
    r = client.post("/api/plan", json=body, headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    own = studio.url  # http://127.0.0.1:PORT, as the page itself sends it
    assert client.post("/api/plan", json=body, headers={"origin": own}).status_code == 200
    assert client.post("/api/plan", json=body).status_code == 200  # a script: no Origin, the cookie is the key


def test_reading_from_a_foreign_origin_gets_no_cors_headers(client: httpx.Client) -> None:
    r = client.get("/api/runs", headers={"origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = client.options("/api/plan", headers={"origin": "http://evil.example",
                                                "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


def test_protective_headers(client: httpx.Client) -> None:
    r = client.get("/api/runs")
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_remote_server_answers_to_the_machine_names_and_allowed_hosts() -> None:
    from peftstudio.server import ServerSettings

    s = ServerSettings.create("0.0.0.0", 8765, allow_hosts=["gpu.lab.example"])
    assert "gpu.lab.example" in s.allowed_hosts and "localhost" in s.allowed_hosts
    assert "0.0.0.0" not in s.allowed_hosts
    local = ServerSettings.create("127.0.0.1", 8765)
    assert set(local.allowed_hosts) == {"127.0.0.1", "localhost", "::1", "[::1]"}
    assert local.login_token != ServerSettings.create("127.0.0.1", 8765).login_token


def test_a_browser_without_the_link_gets_a_readable_page(studio: Studio) -> None:
    with studio.client(signed_in=False) as c:
        r = c.get("/", headers={"accept": "text/html,application/xhtml+xml"})
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
        assert "Open the studio from its link" in r.text and "<script" not in r.text
        api = c.get("/api/runs", headers={"accept": "text/html"})
        assert api.headers["content-type"].startswith("application/json")
