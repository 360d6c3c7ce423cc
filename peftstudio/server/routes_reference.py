"""The plain-words glossary, the offline user guide, and the server's own facts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from peftstudio.server.deps import as_json, settings_of
from peftstudio.server.errors import JSON

router = APIRouter(prefix="/api", tags=["reference"])


@router.get("/glossary")
def glossary() -> JSON:
    """Every glossary term with its definition, example, other words for it and anchor."""
    from peftstudio.glossary import GLOSSARY

    return JSON({"terms": [{**as_json(t), "anchor": t.anchor} for t in GLOSSARY]})


@router.get("/glossary/{word}")
def term(word: str) -> JSON:
    """One term (any of its words)."""
    from peftstudio.errors import make
    from peftstudio.glossary import lookup

    t = lookup(word)
    if t is None:
        raise make("item_not_found", kind="glossary term", name=word, command="help")
    return JSON({**as_json(t), "anchor": t.anchor})


@router.get("/help")
def help_topics() -> JSON:
    """The user guide's pages."""
    from peftstudio.help import topics

    return JSON({"topics": topics()})


@router.get("/help/{topic}")
def help_page(topic: str) -> JSON:
    """A page of the user guide (or an error code's section) as Markdown, with the anchor to scroll to."""
    from peftstudio.help import page_anchor, page_path, read_page

    return JSON({"topic": topic, "page": page_path(topic).stem, "anchor": page_anchor(topic),
                 "markdown": read_page(topic)})


@router.get("/notifications")
async def notifications(request: Request) -> JSON:
    """What the page's notifications follow: the library's milestones, the saved switches (`defaults`), the
    desktop's Do Not Disturb when the studio runs on this person's own computer (served on loopback), and
    whether the server sends the library's desktop notifications itself (`desktop_notices`)."""
    from peftstudio.notify import PROGRESS_MILESTONES, load_settings, read_dnd

    settings = settings_of(request)
    dnd = None
    if settings.own_desktop:
        try:
            status = await read_dnd(None)
            dnd = {"on": status.on, "source": status.source, "known": status.known}
        except Exception:  # noqa: BLE001 - a desktop that cannot say is simply not known
            dnd = None
    saved = await run_in_threadpool(load_settings)
    return JSON({"milestones": list(PROGRESS_MILESTONES), "defaults": as_json(saved),
                 "do_not_disturb": dnd, "own_desktop": settings.own_desktop,
                 "desktop_notices": getattr(request.app.state, "desktop_notices", None) is not None})


class NotifySwitches(BaseModel):
    """The switches to change (the others keep their saved value)."""

    progress: bool | None = None
    completion: bool | None = None
    errors: bool | None = None
    warnings: bool | None = None
    sound: bool | None = None
    launcher: bool | None = None
    respect_do_not_disturb: bool | None = None


@router.put("/notifications/settings")
def save_notifications(body: NotifySwitches) -> JSON:
    """Save the notification switches (kept in the home folder; the desktop notices follow them at once)."""
    import attrs

    from peftstudio.notify import load_settings, save_settings

    changes = {k: v for k, v in body.model_dump().items() if v is not None}
    return JSON(as_json(save_settings(attrs.evolve(load_settings(), **changes))))


@router.get("/about")
def about() -> JSON:
    """The version, for the page's footer and for scripts."""
    import peftstudio

    return JSON({"name": "PEFT Studio", "version": peftstudio.__version__})
