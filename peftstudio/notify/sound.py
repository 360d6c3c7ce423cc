"""A subtle completion sound: two soft sine notes, generated here, played by whatever is there.

The WAV is made once (no sound files to ship) and handed to the first player found
(``pw-play``, ``paplay``, ``aplay``, ``afplay``; ``winsound`` on Windows). With no player the
sound is skipped silently: a sound is a nicety, never a reason to fail.

Example:
    >>> import io, wave
    >>> with wave.open(io.BytesIO(completion_wav())) as w:
    ...     w.getnchannels(), w.getframerate(), round(w.getnframes() / w.getframerate(), 2)
    (1, 22050, 0.36)
"""

from __future__ import annotations

import io
import logging
import math
import shutil
import struct
import subprocess
import sys
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22050
#: (frequency Hz, seconds) of each note: a rising fifth, short and quiet.
NOTES: tuple[tuple[float, float], ...] = ((659.25, 0.14), (987.77, 0.22))
VOLUME = 0.18  # of full scale: noticeable, not startling
PLAYERS: tuple[tuple[str, ...], ...] = (("pw-play",), ("paplay",), ("aplay", "-q"), ("afplay",))


def completion_wav(notes: Sequence[tuple[float, float]] = NOTES, volume: float = VOLUME, rate: int = RATE) -> bytes:
    """The sound as 16-bit mono WAV bytes; each note fades in and out (no clicks)."""
    frames = bytearray()
    for freq, seconds in notes:
        n = int(seconds * rate)
        attack = max(1, int(0.01 * rate))
        for i in range(n):
            envelope = min(1.0, i / attack) * math.exp(-4.0 * i / n) * min(1.0, (n - i) / attack)
            sample = volume * envelope * math.sin(2 * math.pi * freq * i / rate)
            frames += struct.pack("<h", int(sample * 32767))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def sound_file() -> Path:
    """The WAV under the home folder's cache, written on first use."""
    from peftstudio import paths
    from peftstudio.store.files import atomic_write_bytes

    path = paths.sub("cache") / "completion.wav"
    data = completion_wav()
    if not path.exists() or path.stat().st_size != len(data):
        atomic_write_bytes(path, data)
    return path


def find_player(players: Sequence[Sequence[str]] = PLAYERS,
                which: Callable[[str], str | None] = shutil.which) -> list[str] | None:
    """The first available player command (without the file argument), or None.

    Example:
        >>> find_player(which=lambda name: "/usr/bin/aplay" if name == "aplay" else None)
        ['/usr/bin/aplay', '-q']
        >>> find_player(which=lambda name: None) is None
        True
    """
    for command in players:
        exe = which(command[0])
        if exe:
            return [exe, *command[1:]]
    return None


def play_completion_sound(players: Sequence[Sequence[str]] = PLAYERS) -> subprocess.Popen[bytes] | None:
    """Start playing the sound in the background; None when it was skipped."""
    try:
        path = sound_file()
        if sys.platform == "win32":  # pragma: no cover - Windows only
            import winsound

            winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC)
            return None
        command = find_player(players)
        if command is None:
            log.debug("no sound player found; completion sound skipped")
            return None
        return subprocess.Popen([*command, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except Exception as exc:  # noqa: BLE001 - never fail a run over a sound
        log.debug("completion sound skipped: %s", exc)
        return None
