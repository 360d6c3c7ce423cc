"""How one studio server is set up: where it listens, which names and folders it trusts, its keys.

Example:
    >>> s = ServerSettings.create(host="127.0.0.1", port=8765)
    >>> s.url_with_token().startswith("http://127.0.0.1:8765/?token=")
    True
    >>> "localhost" in s.allowed_hosts
    True
"""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

from attrs import field, frozen

from peftstudio.tuples import as_tuple

#: Host names a loopback server always answers to.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Addresses that mean "every interface": not a name a browser sends.
WILDCARDS = ("0.0.0.0", "::", "")
#: The default upload limit (bytes).
DEFAULT_MAX_UPLOAD = 1024 * 1024 * 1024


def _machine_names() -> tuple[str, ...]:
    """This machine's own names and addresses: what a browser elsewhere types to reach it."""
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        import psutil

        for addrs in psutil.net_if_addrs().values():
            for a in addrs:
                if a.family in (socket.AF_INET, socket.AF_INET6):
                    names.add(a.address.split("%")[0])
    except Exception:  # noqa: BLE001 - a machine without readable interfaces still serves its own names
        pass
    return tuple(sorted(n.lower() for n in names if n))


@frozen
class ServerSettings:
    """A studio server's set-up (frozen; make one with `create`).

    `login_token` is the one-time key in the printed URL; `session_key` is what the sign-in cookie
    carries. `allowed_hosts` is the Host header allow-list ("*" allows any: only behind a proxy that
    checks it). `data_dirs` are the folders whose files may be named by path; uploads go to `upload_dir`.
    """

    host: str
    port: int
    login_token: str
    session_key: str
    allowed_hosts: tuple[str, ...] = field(converter=as_tuple)
    data_dirs: tuple[str, ...] = field(converter=as_tuple, default=())
    upload_dir: str = ""
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    failure_delay_s: float = 0.5  # the first failed guess waits this long; each further one longer
    static_dir: str = ""
    secure_cookie: bool = False  # set behind an https proxy: the cookie then never travels in clear
    #: the library's desktop notifications for the runs (only where served on loopback: this person's desktop)
    desktop_notices: bool = False
    #: keep a worker waiting with its libraries loaded, so that a run starts or resumes seconds sooner
    #: (`engine.runs.SpareWorker`; about 0.5 GB of memory while the studio is open)
    spare_worker: bool = False
    #: Test Export's lowest same-next-token share per quantized type, replacing the library's (random-weight
    #: test models like builtin:tiny-llama agree less than any trained model); empty: the library's limits
    export_min_top1: dict[str, float] = field(factory=dict)

    @property
    def own_desktop(self) -> bool:
        """Served on loopback: the page is shown on this computer's desktop."""
        return self.host in LOOPBACK_NAMES

    @classmethod
    def create(cls, host: str = "127.0.0.1", port: int = 0, *, allow_hosts: tuple[str, ...] | list[str] = (),
               data_dirs: tuple[str, ...] | list[str] = (), upload_dir: str | Path | None = None,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD, failure_delay_s: float = 0.5,
               login_token: str | None = None, session_key: str | None = None,
               secure_cookie: bool = False, desktop_notices: bool = False,
               spare_worker: bool = False) -> ServerSettings:
        """Settings with fresh random keys; a server bound beyond loopback also answers to the machine's names."""
        from peftstudio import paths

        hosts = list(LOOPBACK_NAMES)
        if host not in WILDCARDS and host not in hosts:
            hosts.append(host.lower())
        if host not in LOOPBACK_NAMES:
            hosts.extend(_machine_names())
        hosts.extend(h.lower() for h in allow_hosts)
        static = Path(__file__).resolve().parent / "static"
        return cls(
            host=host, port=port, login_token=login_token or secrets.token_urlsafe(24),
            session_key=session_key or secrets.token_urlsafe(32), allowed_hosts=tuple(dict.fromkeys(hosts)),
            data_dirs=tuple(str(Path(d).expanduser().resolve()) for d in data_dirs),
            upload_dir=str(Path(upload_dir).resolve() if upload_dir else paths.sub("uploads")),
            max_upload_bytes=max_upload_bytes, failure_delay_s=failure_delay_s, static_dir=str(static),
            secure_cookie=secure_cookie, desktop_notices=desktop_notices and host in LOOPBACK_NAMES,
            spare_worker=spare_worker,
        )

    def url_with_token(self, host: str | None = None) -> str:
        """The link that signs a browser in (once): printed at start, opened by `peftstudio app`."""
        name = host or (self.host if self.host not in WILDCARDS else socket.gethostname())
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        return f"http://{name}:{self.port}/?token={self.login_token}"
