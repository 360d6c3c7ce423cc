"""The notification scenario, run on a private session bus by tests/notify/test_dbus.py.

    dbus-run-session -- python tests/notify/scenario.py OUT_DIR [--driver loop|lightning]

Starts the fake desktop (fake_server.py), then runs, each phase marked on the server:

- ``no-server``: before the fake desktop is up, a notice goes nowhere and nothing raises;
- ``progress``: a run of 8 optimizer steps (a plain loop, or a real Lightning trainer with
  `NotifyCallback`), then its completion;
- ``error``: a run that stops at 3/8 with an out-of-memory error;
- ``dnd-inhibited``: the server's ``Inhibited`` property is true (KDE-style DND), a full run;
- ``dnd-gnome``: GNOME's ``show-banners`` is false (read through the Settings portal), a full run;
- ``after-dnd``: DND off again, one warning;
- ``no-close``: a separate script reports a whole run and exits without closing its notifier;
- ``cli``: ``peftstudio notify --test --json``.

Writes OUT_DIR/server.json (everything the fake desktop received) and OUT_DIR/client.json
(what each phase's notifier recorded).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from attrs import asdict

from peftstudio.errors import make
from peftstudio.notify import CompletionSummary, LauncherState, NotifySettings, RunNotifier

STEPS = 8
NO_CLOSE = """
from peftstudio.notify import NotifySettings, RunNotifier
notifier = RunNotifier(NotifySettings(sound=False))
for step in range(1, 9):
    notifier.progress(step / 8)
notifier.completed()
"""
# The `notify` command on its own parser: this test should not depend on every other command group importing.
CLI = """
import argparse, sys
from peftstudio.cli import notify
parser = argparse.ArgumentParser()
notify.register(parser.add_subparsers())
args = parser.parse_args(["notify", "--test", "--json"])
sys.exit(args.func(args))
"""


async def _control(member: str, signature: str = "", body: list[Any] | None = None) -> None:
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus

    bus = await MessageBus().connect()
    try:
        await bus.call(Message(destination="org.freedesktop.Notifications", path="/org/peftstudio/Test",
                               interface="org.peftstudio.Test.FakeControl", member=member, signature=signature,
                               body=body or []))
    finally:
        bus.disconnect()


def control(member: str, signature: str = "", *body: Any) -> None:
    asyncio.run(_control(member, signature, list(body)))


class Phase:
    """One run's notifier, with the sound and the window-title hook recorded."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sounds = 0
        self.titles: list[LauncherState] = []
        self.notifier = RunNotifier(NotifySettings(), run_name=f"run-{name}", play_sound=self._sound,
                                    on_launcher=self.titles.append)

    def _sound(self) -> None:
        self.sounds += 1

    def result(self) -> dict[str, Any]:
        self.notifier.close()
        return {"deliveries": [asdict(d) for d in self.notifier.deliveries], "sounds": self.sounds,
                "hook": [asdict(s) for s in self.titles]}


def run_loop(phase: Phase, stop_at: int | None = None) -> None:
    for step in range(1, STEPS + 1):
        phase.notifier.progress(step / STEPS)
        if step == stop_at:
            phase.notifier.failed(make("out_of_memory"))
            return
    phase.notifier.completed(CompletionSummary(run_name=phase.notifier.run_name, steps=STEPS,
                                               elapsed_seconds=42.0, final_loss=1.5))


def run_lightning(phase: Phase) -> None:
    """A real trainer: 8 optimizer steps of a tiny regression, progress from `NotifyCallback`."""
    import lightning as L
    import torch

    from peftstudio.callbacks.notify import NotifyCallback

    class Tiny(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = torch.utils.data.TensorDataset(torch.randn(32, 4), torch.randn(32, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=2)
    trainer = L.Trainer(max_steps=STEPS, accumulate_grad_batches=2, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1,
                        callbacks=[NotifyCallback(notifier=phase.notifier)])
    trainer.fit(Tiny(), loader)


def main() -> None:
    out = Path(sys.argv[1])
    driver = sys.argv[sys.argv.index("--driver") + 1] if "--driver" in sys.argv else "loop"
    out.mkdir(parents=True, exist_ok=True)
    client: dict[str, Any] = {}

    early = Phase("no-server")
    early.notifier.warning("Nobody listens", "There is no notification server yet.")
    client["no-server"] = early.result()

    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fake_server.py")),
                               str(out / "server.json")], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"

        control("Mark", "s", "progress")
        phase = Phase("progress")
        run_lightning(phase) if driver == "lightning" else run_loop(phase)
        client["progress"] = phase.result()

        control("Mark", "s", "error")
        phase = Phase("error")
        run_loop(phase, stop_at=3)
        client["error"] = phase.result()

        control("SetInhibited", "b", True)
        control("Mark", "s", "dnd-inhibited")
        phase = Phase("dnd-inhibited")
        run_loop(phase)
        client["dnd-inhibited"] = phase.result()

        control("SetInhibited", "b", False)
        control("SetShowBanners", "b", False)
        control("Mark", "s", "dnd-gnome")
        phase = Phase("dnd-gnome")
        run_loop(phase)
        client["dnd-gnome"] = phase.result()

        control("SetShowBanners", "b", True)
        control("Mark", "s", "after-dnd")
        phase = Phase("after-dnd")
        phase.notifier.warning("Loss is rising", "The last 20 steps made the model worse.")
        client["after-dnd"] = phase.result()

        # A script that reports and exits at once, never closing its notifier: the notices still go out.
        control("Mark", "s", "no-close")
        subprocess.run([sys.executable, "-c", NO_CLOSE], check=True, cwd=ROOT)

        # `peftstudio notify --test --json`: the check sees the fake desktop and the test notice arrives.
        control("Mark", "s", "cli")
        # PATH without sound players: a developer running the tests hears nothing.
        quiet = {**os.environ, "PATH": str(Path(sys.executable).parent)}
        cli = subprocess.run([sys.executable, "-c", CLI], check=True, cwd=ROOT, capture_output=True, text=True,
                             env=quiet)
        client["cli"] = json.loads(cli.stdout)

        control("Quit")
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
    (out / "client.json").write_text(json.dumps(client, indent=1))


if __name__ == "__main__":
    main()
