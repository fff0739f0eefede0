"""Synthesized speech for tests: espeak-ng (apt), resampled to 16 kHz like any input file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from tests.conftest import missing

# One paragraph, no sentence breaks: 192 words, 59 s at 140 words a minute. Its words
# are ones tiny.en hears right in espeak-ng's voice (it hears "bread" as "red", ...).
MONOLOGUE = (
    "every morning my neighbour walks her little brown dog along the river and the dog runs"
    " after the birds while she drinks a cup of hot coffee and talks to the old man who sells"
    " newspapers near the bridge and then they both watch the boats go slowly under the bridge"
    " while the children on their way to school wave to the old man from the other side of"
    " the river and he gives the dog a small biscuit and the dog carries it all the way home"
    " as if it were the most important thing in the world and when the sun climbs higher over"
    " the hills she goes back to her kitchen to call her family in the city and tell them"
    " about the garden and the weather and the friendly people she meets on the road every"
    " single day of the year while the dog sleeps under the kitchen table and dreams about"
    " the birds it will chase again tomorrow morning when the whole town wakes up to the"
    " sound of the church bells and the smell of fresh coffee from the little shop near the"
    " old stone bridge"
)


def speak(text: str, path: Path, voice: str = "en-us", words_per_minute: int = 140) -> np.ndarray:
    """``text`` spoken into the WAV file ``path`` (espeak-ng's 22.05 kHz); returns it as the
    pipeline reads it (16 kHz mono int16)."""
    from streamemo.audio_io import read_all

    if shutil.which("espeak-ng") is None:
        missing("needs espeak-ng (apt-get install espeak-ng)")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(path), text],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return read_all(path)
