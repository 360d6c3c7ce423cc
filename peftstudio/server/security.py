"""The studio's guard, in front of every request (as Jupyter Server guards its own):

- **Host allow-list**: a request naming another host is refused (DNS rebinding: a foreign page whose name
  suddenly points at 127.0.0.1 still sends its own name).
- **Sign-in**: the printed link's one-time token is exchanged for an HttpOnly, SameSite=Strict cookie and
  then refused; every other request needs the cookie (or ``Authorization: Bearer`` with its value). Keys
  are compared in constant time, and failed guesses wait longer and longer.
- **Origin**: a state-changing request (anything but GET, HEAD, OPTIONS) from a page of another origin is
  refused; no CORS headers are ever sent, so other sites cannot read answers either.
- Headers that keep the page out of frames, the token out of referrers and answers out of caches.

Example:
    >>> host_name("example.org:8080"), host_name("[::1]:80"), host_name("localhost")
    ('example.org', '::1', 'localhost')
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peftstudio.server.errors import refused, sign_in, sign_in_page
from peftstudio.server.settings import ServerSettings

COOKIE = "peftstudio_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_DELAY_S = 10.0
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; media-src 'self' data:; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def host_name(host: str) -> str:
    """The name part of a Host header value (no port, no IPv6 brackets), lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def same_key(given: str, expected: str) -> bool:
    """Whether `given` is `expected`, compared in constant time."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


class Guard:
    """The ASGI middleware that applies the rules above to every HTTP request."""

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings
        self._token_used = False
        self._failures = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        send = self._with_headers(scope, send)
        host = headers.get("host", "")
        if not self._host_allowed(host):
            await refused(f"the host name {host_name(host)!r} is not one this studio serves")(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query and scope["method"] in SAFE_METHODS:
            await self._exchange(scope, receive, send, query)
            return
        if not self._signed_in(headers):
            if self._presented(headers):
                await self._slow_down()
            page = not str(scope.get("path", "")).startswith("/api/") and "text/html" in headers.get("accept", "")
            await (sign_in_page() if page else sign_in())(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            problem = self._cross_origin(headers, host)
            if problem:
                await refused(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _host_allowed(self, host: str) -> bool:
        allowed = self.settings.allowed_hosts
        return bool(host) and ("*" in allowed or host_name(host) in allowed)

    @staticmethod
    def _cookie(headers: dict[str, str]) -> str | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is simply no sign-in
            return None
        morsel = jar.get(COOKIE)
        return morsel.value if morsel else None

    @staticmethod
    def _bearer(headers: dict[str, str]) -> str | None:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def _presented(self, headers: dict[str, str]) -> bool:
        return self._cookie(headers) is not None or self._bearer(headers) is not None

    def _signed_in(self, headers: dict[str, str]) -> bool:
        key = self.settings.session_key
        given = [g for g in (self._cookie(headers), self._bearer(headers)) if g is not None]
        return any(same_key(g, key) for g in given)

    async def _slow_down(self) -> None:
        """Wait longer after each failed guess (a token of 32 random bytes cannot be guessed anyway; this
        keeps a scanner from hammering the server)."""
        with self._lock:
            self._failures += 1
            n = self._failures
        await asyncio.sleep(min(MAX_DELAY_S, self.settings.failure_delay_s * n))

    async def _exchange(self, scope: Scope, receive: Receive, send: Send, query: dict[str, str]) -> None:
        """The printed link: a right, unused token sets the cookie and redirects to the same page without it."""
        with self._lock:
            ok = not self._token_used and same_key(query["token"], self.settings.login_token)
            if ok:
                self._token_used = True
        if not ok:
            await self._slow_down()
            used = "That sign-in link was already used or is not this studio's."
            page = "text/html" in {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}.get("accept", "")
            await (sign_in_page(used) if page else sign_in(used))(scope, receive, send)
            return
        rest = urlencode({k: v for k, v in query.items() if k != "token"})
        location = (scope.get("path") or "/") + (f"?{rest}" if rest else "")
        cookie = f"{COOKIE}={self.settings.session_key}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
        if self.settings.secure_cookie:
            cookie += "; Secure"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode()),
                                (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _cross_origin(headers: dict[str, str], host: str) -> str | None:
        """Why a state-changing request is refused, or None when it comes from this studio's own page."""
        if headers.get("sec-fetch-site", "") == "cross-site":
            return "the change was asked for by a page of another site"
        origin = headers.get("origin")
        if origin is None:
            return None  # not a browser (a script with the cookie or bearer key)
        parts = urlsplit(origin)
        if origin == "null" or parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
            return f"the change was asked for by a page of {origin!r}, not by the studio itself"
        return None

    @staticmethod
    def _with_headers(scope: Scope, send: Send) -> Send:
        api = str(scope.get("path", "")).startswith("/api/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[Any] = list(_HEADERS)
                names = {k.lower() for k, _ in message.get("headers", [])}
                if api and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped
