"""The playground API on a real LoRA adapter over builtin:tiny-llama: example prompts, answers streamed side by
side, a Stop half way (the answer so far kept and saved), a client that goes away stops its generation, the
saved conversations searched; bad input answered with plain errors while the server keeps serving."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from peftstudio.records import DataSettings, ModelChoice, RunConfig
from peftstudio.server import routes_playground
from peftstudio.store import open_store
from tests.server.tuned import make_tuned_run


@pytest.fixture
def tuned_run(studio) -> str:  # type: ignore[no-untyped-def]
    return make_tuned_run()


def _origin(client: httpx.Client) -> dict[str, str]:
    return {"origin": str(client.base_url).rstrip("/")}


def _events(r: httpx.Response) -> Any:
    event, data = "message", []
    for line in r.iter_lines():
        if line == "":
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def _ask(client: httpx.Client, run_id: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    with client.stream("POST", f"/api/playground/{run_id}/ask", json=body, headers=_origin(client)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream"), r.read()
        return list(_events(r))


def test_examples_and_defaults(client: httpx.Client, tuned_run: str) -> None:
    about = client.get(f"/api/playground/{tuned_run}").json()
    assert about["run_id"] == tuned_run and about["model"] == "builtin:tiny-llama" and about["completion"] is False
    assert about["examples"][0] == "Hi! What can you help me with?"  # the chatbot profile's first
    assert len(about["examples"]) > 3  # and held-out questions from the run's own data
    assert about["settings"]["temperature"] == 0.7 and about["settings"]["max_new_tokens"] == 128


def test_answers_stream_side_by_side_and_are_saved_and_searchable(client: httpx.Client, tuned_run: str) -> None:
    events = _ask(client, tuned_run, {"prompt": "Say hello", "settings": {"temperature": 0, "max_new_tokens": 8}})
    kinds = [k for k, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("answer") == 2
    pieces = {w: "".join(d["text"] for k, d in events if k == "token" and d["which"] == w) for w in ("tuned", "base")}
    done = events[-1][1]
    assert done["tuned"]["text"] == pieces["tuned"].strip() and done["base"]["text"] == pieces["base"].strip()
    assert done["tuned"]["text"] != done["base"]["text"] and done["tuned"]["tokens"] == 8
    assert kinds.index("answer") < max(i for i, (k, d) in enumerate(events) if k == "token" and d["which"] == "base")
    _ask(client, tuned_run, {"prompt": "Only the tuned one", "compare_base": False,
                             "settings": {"temperature": 0, "max_new_tokens": 4}})
    saved = client.get(f"/api/playground/{tuned_run}/history").json()["exchanges"]
    assert [e["prompt"] for e in saved] == ["Only the tuned one", "Say hello"] and saved[0]["base"] is None
    found = client.get(f"/api/playground/{tuned_run}/history", params={"q": "say HELLO"}).json()["exchanges"]
    assert [e["prompt"] for e in found] == ["Say hello"]


def test_stop_half_way_keeps_the_answer_so_far(client: httpx.Client, studio, tuned_run: str) -> None:  # type: ignore[no-untyped-def]
    body = {"prompt": "hello there", "settings": {"temperature": 0, "max_new_tokens": 2000}}
    with studio.client() as other, client.stream("POST", f"/api/playground/{tuned_run}/ask", json=body,
                                                  headers=_origin(client)) as r:
        events, tokens = [], 0
        for kind, data in _events(r):
            events.append((kind, data))
            if kind == "token":
                tokens += 1
                if tokens == 5:
                    gid = events[0][1]["id"]
                    assert other.post(f"/api/playground/generations/{gid}/stop", headers=_origin(other)).json() == \
                        {"stopped": gid}
    done = events[-1]
    assert done[0] == "done" and done[1]["tuned"]["stopped"] is True and 5 <= done[1]["tuned"]["tokens"] < 2000
    assert done[1]["base"] is None  # stopped before the base model began
    [saved] = client.get(f"/api/playground/{tuned_run}/history").json()["exchanges"]
    assert saved["tuned"]["stopped"] is True and saved["tuned"]["text"] == done[1]["tuned"]["text"]


def test_a_client_that_goes_away_stops_its_generation(client: httpx.Client, tuned_run: str) -> None:
    body = {"prompt": "hello there", "settings": {"temperature": 0, "max_new_tokens": 2000}}
    with client.stream("POST", f"/api/playground/{tuned_run}/ask", json=body, headers=_origin(client)) as r:
        for kind, _ in _events(r):
            if kind == "token":
                break
    assert routes_playground._generations  # running
    deadline = time.monotonic() + 20
    while routes_playground._generations and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not routes_playground._generations
    events = _ask(client, tuned_run, {"prompt": "next", "settings": {"temperature": 0, "max_new_tokens": 3}})
    assert events[-1][0] == "done"


@pytest.mark.parametrize(("method", "path", "body", "code"), [
    ("get", "/api/playground/nothing-here", None, "run_not_found"),
    ("get", "/api/playground/nothing-here/history", None, "run_not_found"),
    ("get", "/api/playground/RUN/history?q=" + "x" * 501, None, "config_invalid"),
    ("post", "/api/playground/nothing-here/ask", {"prompt": "hi"}, "run_not_found"),
    ("post", "/api/playground/RUN/ask", {"prompt": ""}, "config_invalid"),
    ("post", "/api/playground/RUN/ask", {"prompt": "x" * 20_001}, "config_invalid"),
    ("post", "/api/playground/RUN/ask", {"prompt": "hi", "settings": {"temperature": 5}}, "config_invalid"),
    ("post", "/api/playground/RUN/ask", {"prompt": "hi", "settings": {"max_new_tokens": 0}}, "config_invalid"),
    ("post", "/api/playground/RUN/ask", {"prompt": "hi", "settings": {"top_p": "lots"}}, "config_invalid"),
    ("post", "/api/playground/RUN/ask", "not json", "config_invalid"),
    ("post", "/api/playground/generations/no-such-generation/stop", {}, "item_not_found"),
    ("post", "/api/playground/..%2F..%2Fetc/ask", {"prompt": "hi"}, "request_refused"),
])
def test_bad_input_is_a_plain_error(client: httpx.Client, tuned_run: str, method: str, path: str, body: Any,
                                    code: str) -> None:
    path = path.replace("RUN", tuned_run)
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, str) else {"json": body}
    r = client.request(method.upper(), path, headers={**_origin(client), "content-type": "application/json"},
                       **kwargs)
    assert r.status_code >= 400 and r.json()["error"]["code"] == code, r.text
    assert "Traceback" not in r.text
    assert client.get(f"/api/playground/{tuned_run}").status_code == 200  # and keeps serving


def test_an_unfinished_run_and_refusals(client: httpx.Client, studio, tuned_run: str) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    pending = store.create_run(RunConfig(profile="chatbot", model=ModelChoice("builtin:tiny-llama"),
                                         data=DataSettings(path="c.jsonl"))).id
    r = client.get(f"/api/playground/{pending}")
    assert r.status_code >= 400 and "not there yet" in r.json()["error"]["explanation"]
    body = {"prompt": "hi", "settings": {"max_new_tokens": 2}}
    r = client.post(f"/api/playground/{tuned_run}/ask", json=body, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "request_refused"
    r = client.post("/api/playground/generations/x/stop", headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    with studio.client(signed_in=False) as anonymous:
        assert anonymous.get(f"/api/playground/{tuned_run}").status_code == 401
        assert anonymous.get(f"/api/playground/{tuned_run}/history").status_code == 401
        assert anonymous.post(f"/api/playground/{tuned_run}/ask", json=body, headers=_origin(client)).status_code == 401
    assert client.get(f"/api/playground/{tuned_run}/history").json()["exchanges"] == []  # nothing was asked
