"""Welcome: what fine-tuning is and what will happen, in plain words; what this computer can do."""

from __future__ import annotations

from app.screens.base import WizardScreen, load_kv

load_kv(__file__)


class WelcomeScreen(WizardScreen):
    pass
