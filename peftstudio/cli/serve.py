"""`peftstudio app` and `peftstudio serve`: the studio in the browser.

``peftstudio app`` serves on 127.0.0.1 on a free port and opens the studio signed in: in a native window
when the optional `desktop` extra (pywebview) is installed, else in the default browser.
``peftstudio serve [--host 0.0.0.0] [--port 8765] [--data-dir FOLDER]`` serves for a browser elsewhere
(a GPU box): it prints a link with a one-time token; open it once, and the browser keeps a cookie.
Ctrl-C stops the server; trainings go on in their own processes and are found again on the next start.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    app = subparsers.add_parser("app", help="open the studio in your browser (served on this computer only)")
    _common(app)
    app.add_argument("--no-browser", action="store_true",
                     help="print the link instead of opening a window or the browser")
    app.add_argument("--browser", action="store_true",
                     help="open the default browser even where the desktop window (pywebview) is installed")
    app.set_defaults(func=_app)

    serve = subparsers.add_parser("serve", help="serve the studio for a browser, e.g. from a GPU box",
                                  description="Serve the studio. Loopback only unless --host is given; "
                                              "see docs/studio.md for remote use through an SSH tunnel.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    _common(serve)
    serve.add_argument("--open", action="store_true", help="also open the link in a browser here")
    serve.set_defaults(func=_serve)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", action="append", default=[], metavar="FOLDER",
                        help="a folder whose data files the studio may read by path (repeatable)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="another host name the browser uses (a proxy's, a DNS name; repeatable)")
    parser.add_argument("--max-upload-mb", type=int, default=1024, help="largest upload in MB (default 1024)")
    parser.add_argument("--secure-cookie", action="store_true",
                        help="mark the sign-in cookie Secure (when served behind an https proxy)")
    parser.add_argument("--no-spare-worker", action="store_true",
                        help="do not keep a worker waiting with its libraries loaded (saves about 0.5 GB of "
                             "memory; each run then starts a few seconds later)")


def _settings(args: argparse.Namespace, host: str, port: int) -> object:
    from peftstudio.server import ServerSettings

    # on loopback the page is on this computer's desktop: the library's desktop notifications follow the runs
    return ServerSettings.create(host, port, allow_hosts=args.allow_host, data_dirs=args.data_dir,
                                 max_upload_bytes=args.max_upload_mb * 1024 * 1024,
                                 secure_cookie=args.secure_cookie, desktop_notices=True,
                                 spare_worker=not args.no_spare_worker)


def _announce(settings: object) -> None:
    url = settings.url_with_token()  # type: ignore[attr-defined]
    print(f"PEFT Studio is running. Open this link (it works once, then the browser stays signed in):\n\n"
          f"    {url}\n\nStop with Ctrl-C; trainings keep running.", flush=True)


def _app(args: argparse.Namespace) -> int:
    from peftstudio.server import serve

    settings = _settings(args, "127.0.0.1", 0)
    serve(settings, open_browser=not args.no_browser, window=not (args.no_browser or args.browser),  # type: ignore[arg-type]
          on_ready=_announce)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from peftstudio.server import serve

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("Serving beyond this computer: anyone who can reach this port sees a sign-in page only; the "
              "link below is the key. Prefer an SSH tunnel (docs/studio.md).", file=sys.stderr)
    settings = _settings(args, args.host, args.port)
    serve(settings, open_browser=args.open, on_ready=_announce)  # type: ignore[arg-type]
    return 0
