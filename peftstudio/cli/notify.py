"""`peftstudio notify [--test] [--json]`: can this desktop show PEFT Studio's notifications?"""

from __future__ import annotations

import argparse

from peftstudio.cli.output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("notify", help="check desktop notifications (and send a test one)")
    parser.add_argument("--test", action="store_true", help="send a test notification and play the sound")
    parser.add_argument("--json", action="store_true", help="print the check as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from peftstudio.notify import RunNotifier
    from peftstudio.notify.check import check_notifications
    from peftstudio.notify.dnd import can_read

    report = check_notifications()
    outcome = None
    if args.test:
        with RunNotifier(run_name="test") as notifier:
            notifier.warning("PEFT Studio test notification",
                             "If you can read this, PEFT Studio can tell you when training finishes.")
            notifier.flush()
            if report.sound_player and not report.do_not_disturb.on:
                notifier.play_sound()
        outcome = notifier.deliveries[-1].outcome
    if args.json:
        print_json({"session_bus": report.session_bus, "server": report.server,
                    "do_not_disturb": report.do_not_disturb.on, "do_not_disturb_source": report.do_not_disturb.source,
                    "do_not_disturb_readable": report.do_not_disturb.known,
                    "sound_player": report.sound_player, "will_show": report.will_show, "test": outcome})
        return 0
    print(report.advice())
    if not can_read():
        print("Do Not Disturb: this computer does not say whether it is on, so the sound starts switched off "
              "(turn it on in the notification settings if you want it).")
    print(f"Sound: {'played with ' + report.sound_player if report.sound_player else 'no player found, skipped'}"
          if args.test else f"Sound: {report.sound_player or 'no player found, the sound is skipped'}")
    if outcome is not None:
        print("Test notification: " + {"shown": "sent", "do_not_disturb": "held back (Do Not Disturb)"}.get(
            outcome, "not shown"))
    return 0
