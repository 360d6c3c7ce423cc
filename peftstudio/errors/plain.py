"""Errors as values a screen can render: a code, a plain title, an explanation, 2-3 actions."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from peftstudio.tuples import as_tuple


@frozen
class Action:
    """One thing the user can do about an error.

    An action is either applied by PEFT Studio (`fix_id` set: e.g. ``use_4bit``) or a list of
    manual `steps`.

    Example:
        >>> Action("Use 4-bit", fix_id="use_4bit").automatic
        True
    """

    label: str
    fix_id: str | None = None
    steps: tuple[str, ...] = field(default=(), converter=as_tuple)
    params: dict[str, Any] = field(factory=dict)

    @property
    def automatic(self) -> bool:
        return self.fix_id is not None


@frozen
class ErrorInfo:
    """The renderable content of a plain error."""

    code: str
    title: str
    explanation: str
    actions: tuple[Action, ...] = field(default=(), converter=as_tuple)
    help_anchor: str = ""
    details: dict[str, Any] = field(factory=dict)

    @property
    def help_url(self) -> str:
        """The help topic of the error's section of the user guide (``peftstudio help errors#disk-full``)."""
        return f"errors#{self.help_anchor or self.code.replace('_', '-')}"


class PlainError(Exception):
    """An error a beginner can read and act on; never shown with a traceback.

    Build one from the catalog with `peftstudio.errors.make(code, ...)`.

    Example:
        >>> from peftstudio.errors import make
        >>> err = make("model_offline", reference="meta-llama/Llama-3.1-8B")
        >>> err.info.code, len(err.info.actions) >= 2
        ('model_offline', True)
    """

    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(f"{info.title}: {info.explanation}")
        self.info = info

    @property
    def code(self) -> str:
        return self.info.code

    def render(self) -> str:
        """The error as plain text: title, explanation, numbered actions, help link."""
        lines = [self.info.title, "", self.info.explanation]
        if self.info.actions:
            lines += ["", "What you can do:"]
            for i, action in enumerate(self.info.actions, 1):
                lines.append(f"  {i}. {action.label}")
                lines += [f"       - {step}" for step in action.steps]
        lines += ["", f"Help: peftstudio help {self.info.help_url}"]
        return "\n".join(lines)
