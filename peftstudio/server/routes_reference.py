"""The plain-words glossary, the offline user guide, and the server's own facts."""

from __future__ import annotations

from fastapi import APIRouter, Request

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
    """What the page's notifications follow: the library's milestones and default switches, and the
    desktop's Do Not Disturb when the studio runs on this person's own computer (served on loopback)."""
    from peftstudio.notify import PROGRESS_MILESTONES, NotifySettings, read_dnd
    from peftstudio.server.settings import LOOPBACK_NAMES

    dnd = None
    if settings_of(request).host in LOOPBACK_NAMES:
        try:
            status = await read_dnd(None)
            dnd = {"on": status.on, "source": status.source, "known": status.known}
        except Exception:  # noqa: BLE001 - a desktop that cannot say is simply not known
            dnd = None
    return JSON({"milestones": list(PROGRESS_MILESTONES), "defaults": as_json(NotifySettings()),
                 "do_not_disturb": dnd, "own_desktop": settings_of(request).host in LOOPBACK_NAMES})


@router.get("/about")
def about() -> JSON:
    """The version, for the page's footer and for scripts."""
    import peftstudio

    return JSON({"name": "PEFT Studio", "version": peftstudio.__version__})
