"""The studio server: the library's public calls over HTTP and Server-Sent Events, for the browser page.

`peftstudio app` serves it on 127.0.0.1 and opens the browser; `peftstudio serve --host ...` serves it
from a GPU box. Every request is signed in (a one-time token exchanged for a cookie), the Host header is
checked against an allow-list and changes must come from the studio's own page. Training runs in its own
worker process; the server only starts, pauses, resumes and follows it.

Example:
    >>> from peftstudio.server import ServerSettings, create_app
    >>> settings = ServerSettings.create(port=8765)
    >>> app = create_app(settings)
    >>> app.title
    'PEFT Studio'
"""

from peftstudio.server.app import create_app
from peftstudio.server.run import serve
from peftstudio.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "serve"]
