"""The notification settings: one on/off switch per kind of desktop notification (the library notifies)."""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.modalview import ModalView

from app.widgets.action_button import StudioButton

#: kind -> what the switch says
LABELS = {
    "progress": "Progress at 25%, 50% and 75%",
    "completion": "When training finishes, with a summary",
    "errors": "When a problem stops training (urgent)",
    "warnings": "When a guard notices something",
    "sound": "A soft sound at the end",
    "launcher": "Progress on the taskbar icon and in the window title",
    "respect_do_not_disturb": "Stay quiet while the desktop's Do Not Disturb is on",
}

Builder.load_string("""
#:import theme app.theme
#:import dp kivy.metrics.dp
<NotificationSettings>:
    size_hint: None, None
    width: dp(640)
    height: nbox.minimum_height
    background_color: 0, 0, 0, 0.6
    BoxLayout:
        id: nbox
        orientation: 'vertical'
        padding: dp(24)
        spacing: dp(10)
        canvas.before:
            Color:
                rgba: theme.SURFACE
            RoundedRectangle:
                pos: self.pos
                size: self.size
                radius: [dp(12)]
        Heading:
            plain: "Desktop notifications"
        BoxLayout:
            id: rows
            orientation: 'vertical'
            spacing: dp(8)
            size_hint_y: None
            height: self.minimum_height
        BoxLayout:
            size_hint_y: None
            height: theme.TOUCH
            Widget:
            StudioButton:
                text: "Done"
                kind: 'primary'
                on_release: root.dismiss()
""")


class NotificationSettings(ModalView):
    ctrl = ObjectProperty(None)

    def on_kv_post(self, _base: Any) -> None:
        from kivy.uix.boxlayout import BoxLayout

        from app.widgets.text import Body

        for kind, label in LABELS.items():
            row = BoxLayout(size_hint_y=None, height=StudioButton().height, spacing=12)
            row.add_widget(Body(plain=label, pos_hint={"center_y": 0.5}))
            switch = StudioButton()
            switch.bind(on_release=lambda _b, k=kind: self.toggle(k))
            self._paint(switch, kind)
            row.add_widget(switch)
            self.ids.rows.add_widget(row)
            setattr(self, f"switch_{kind}", switch)

    def _paint(self, switch: StudioButton, kind: str) -> None:
        on = bool(self.ctrl.notifications.get(kind, True))
        switch.text, switch.kind = ("On", "good") if on else ("Off", "secondary")

    def toggle(self, kind: str) -> None:
        self.ctrl.set_notification(kind, not self.ctrl.notifications.get(kind, True))
        self._paint(getattr(self, f"switch_{kind}"), kind)
