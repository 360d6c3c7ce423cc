"""The studio's OpenAPI schema as a file: the source of the page's generated API types.

``python -m peftstudio.server.schema web/openapi.json`` writes the schema that `create_app` publishes at
``/api/openapi.json``; the build (tools/build_web.sh) then turns it into ``web/src/api-schema.d.ts`` with
openapi-typescript, and the page's client (web/src/api.ts) takes its request types from there, so a field
renamed on the server fails the page's type check. A test keeps the committed files equal to the schema.

Example:
    >>> text = schema_text()
    >>> import json; "/api/runs" in json.loads(text)["paths"]
    True
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def openapi_schema() -> dict[str, Any]:
    """The schema of the studio's API (the same for every server: it does not depend on the settings)."""
    from peftstudio.server.app import create_app
    from peftstudio.server.settings import ServerSettings

    schema: dict[str, Any] = create_app(ServerSettings.create(port=8765)).openapi()
    return schema


def schema_text() -> str:
    """The schema as the committed file holds it: indented JSON, key order kept, a final newline."""
    return json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m peftstudio.server.schema OUT.json", file=sys.stderr)
        return 2
    from peftstudio.files import atomic_write_text

    atomic_write_text(Path(args[0]), schema_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
