"""Every failure as plain JSON (``{"error": ErrorInfo}``) with a fitting status code; never a traceback."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import Response

from peftstudio.errors import PlainError, as_plain, make

#: error code -> HTTP status (anything else is a 400 when the library raised it on purpose)
STATUS = {
    "sign_in_needed": 401,
    "request_refused": 403,
    "path_not_allowed": 403,
    "run_not_found": 404,
    "item_not_found": 404,
    "file_not_found": 404,
    "upload_too_large": 413,
    "config_invalid": 422,
    "dataset_invalid": 422,
    "internal_error": 500,
}


def clean(value: Any) -> Any:
    """`value` with every non-finite float as None: JSON has no NaN, and a diverged loss is one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Strict JSON of `value` (non-finite floats as null, any text as UTF-8)."""
    return json.dumps(clean(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class JSON(Response):
    """The server's JSON response: strict JSON, UTF-8, non-finite numbers as null."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def error_response(err: PlainError, status: int | None = None) -> JSON:
    from peftstudio.records.convert import to_dict

    info = to_dict(err.info)
    info["help_url"] = err.info.help_url
    return JSON({"error": info}, status_code=status or STATUS.get(err.info.code, 400),
                headers={"cache-control": "no-store"})


def plain_response(exc: BaseException) -> JSON:
    """Any exception as a plain error response (unknown ones are logged to a file by `as_plain`)."""
    return error_response(as_plain(exc))


def refused(reason: str) -> JSON:
    return error_response(make("request_refused", reason=reason))


def sign_in(detail: str = "") -> JSON:
    return error_response(make("sign_in_needed", detail=detail))


def sign_in_page(detail: str = "") -> Response:
    """The sign-in error as a small page, for a browser that opened the studio without its link."""
    from html import escape

    info = make("sign_in_needed", detail=detail).info
    steps = "".join(f"<li>{escape(step)}</li>" for a in info.actions for step in a.steps)
    body = (f'<!doctype html><html lang="en"><meta charset="utf-8"><meta name="color-scheme" content="light dark">'
            f"<title>{escape(info.title)} · PEFT Studio</title><body style=\"font-family:system-ui;max-width:40em;"
            f'margin:4em auto;padding:0 1em;line-height:1.5"><main><h1>{escape(info.title)}</h1>'
            f"<p>{escape(info.explanation)}</p><ol>{steps}</ol></main></body></html>")
    return Response(body, status_code=401, media_type="text/html; charset=utf-8",
                    headers={"cache-control": "no-store"})
