"""The completion sound: a short, quiet, click-free WAV, played by whatever player exists."""

from __future__ import annotations

import array
import io
import stat
import sys
import time
import wave
from pathlib import Path

import pytest

from peftstudio.notify.sound import (
    NOTES,
    VOLUME,
    completion_wav,
    find_player,
    play_completion_sound,
    sound_file,
)


def test_wav_is_short_quiet_and_starts_and_ends_silent() -> None:
    with wave.open(io.BytesIO(completion_wav())) as reader:
        frames = array.array("h", reader.readframes(reader.getnframes()))
        seconds = reader.getnframes() / reader.getframerate()
        assert reader.getsampwidth() == 2 and reader.getnchannels() == 1
    assert seconds == pytest.approx(sum(s for _, s in NOTES), abs=0.01) and seconds < 0.5
    peak = max(abs(x) for x in frames) / 32767
    assert 0.5 * VOLUME < peak <= VOLUME  # audible, never loud
    assert abs(frames[0]) < 50 and abs(frames[-1]) < 50  # fades: no click at either end


def test_sound_file_is_written_once_under_home(fresh_home: Path) -> None:
    path = sound_file()
    assert path.is_relative_to(fresh_home) and path.read_bytes() == completion_wav()
    mtime = path.stat().st_mtime_ns
    assert sound_file() == path and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize(("available", "command"), [
    ({"pw-play", "aplay"}, ["/bin/pw-play"]),
    ({"aplay"}, ["/bin/aplay", "-q"]),
    ({"afplay"}, ["/bin/afplay"]),
    (set(), None),
])
def test_first_available_player(available: set[str], command: list[str] | None) -> None:
    assert find_player(which=lambda name: f"/bin/{name}" if name in available else None) == command


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script player")
def test_plays_through_a_player_or_skips_silently(tmp_path: Path) -> None:
    player = tmp_path / "player"
    log = tmp_path / "played"
    player.write_text(f"#!/bin/sh\ncp \"$1\" {log}\n")
    player.chmod(player.stat().st_mode | stat.S_IEXEC)
    proc = play_completion_sound(players=((str(tmp_path / "missing"),), (str(player),)))
    assert proc is not None and proc.wait(10) == 0
    for _ in range(50):  # the copy lands when the player exits
        if log.exists():
            break
        time.sleep(0.02)
    assert log.read_bytes() == completion_wav()
    assert play_completion_sound(players=((str(tmp_path / "missing"),),)) is None
