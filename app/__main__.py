"""Start the PEFT Studio app: `python -m app` or `peftstudio-app`."""

from __future__ import annotations


def main() -> None:
    from app.main import PeftStudioApp

    PeftStudioApp().run()


if __name__ == "__main__":
    main()
