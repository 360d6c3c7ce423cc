"""Shared steps of the browser tests: start a tiny run through the API, scan a page with axe-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.server.conftest import Studio

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


def start_run(studio: Studio, *, model: str = "builtin:tiny-llama", name: str = "tiny run",
              **overrides: object) -> str:
    """A chatbot run on the bundled pirate chat, started through the API as the wizard's Start does."""
    with studio.client() as c:
        r = c.post("/api/runs", json={"profile": "chatbot", "model": model,
                                      "data": "sample:pirate_chat.jsonl", "name": name,
                                      "overrides": {"max_steps": 20, "checkpoint_every_steps": 2, **overrides}})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def run_status(studio: Studio, run_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=studio.url, cookies={"peftstudio_session": studio.settings.session_key}) as c:
        return c.get(f"/api/runs/{run_id}").json()  # type: ignore[no-any-return]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (the page's context must
    bypass CSP: axe is injected as an inline script)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"]["name"] == "axe-core" and result["passes"], "axe did not run"
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
