"""A value together with the plain-language reason it was chosen."""

from __future__ import annotations

from attrs import frozen

#: The kinds of value a `Setting` may hold.
SettingValue = bool | int | float | str | None


@frozen
class Setting:
    """One chosen value and why it was chosen.

    `source` says who chose it: ``"default"`` (the planner's smart default),
    ``"profile"`` (the task profile), or ``"user"`` (an explicit override).

    Example:
        >>> s = Setting(value=4, reason="the largest batch that fits in 8 GB")
        >>> s.value, s.source
        (4, 'default')
    """

    value: SettingValue
    reason: str
    source: str = "default"
    warning: str | None = None
