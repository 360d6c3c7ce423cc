"""A small Server-Sent Events reader for the tests (what a browser's EventSource does)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def messages(client: httpx.Client, url: str, last_id: str | None = None) -> Iterator[tuple[str, str, Any]]:
    """(id, event, data) of each message of the stream at `url`, resuming after `last_id`."""
    headers = {"last-event-id": last_id} if last_id else {}
    with client.stream("GET", url, headers=headers, timeout=120) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        mid, event, data = "", "message", []
        for line in r.iter_lines():
            if line == "":
                if data:
                    yield mid, event, json.loads("\n".join(data))
                mid, event, data = mid, "message", []
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "id":
                mid = value
            elif field == "event":
                event = value
            elif field == "data":
                data.append(value)
