"""A voice analyser that reads arousal from loudness: a loud voice is "excited", a
soft one "calm". No model, no weights: numpy and the public contract only.

    streamemo --plugins-dir plugins run --config energy.toml --input talk.wav

with, in energy.toml (the options may be left out: these are the defaults)::

    [audio]
    name = "energy"
    loud_db = -18    # this loud or louder: "excited" 0.95
    quiet_db = -38   # this soft or softer: "excited" 0.05

Written exactly as a third party writes a plugin: one class, one hook, a start-up
check of its options, and only ``streamemo.api``.
"""

import numpy as np

from streamemo.api import AudioAnalyser, AudioEmotion, ConfigError, hookimpl

FRAME = 480  # 30 ms at 16 kHz
FLOOR_DB = -50.0  # frames quieter than this are pauses, not voice


def frame_levels(audio: np.ndarray) -> np.ndarray:
    """The RMS level (dB full scale) of each whole 30 ms frame of ``int16`` audio."""
    usable = len(audio) - len(audio) % FRAME
    frames = audio[:usable].astype(np.float64).reshape(-1, FRAME) / 32768.0
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-6))


class EnergyEmotion(AudioAnalyser):
    """Scores "excited" from 0.05 (at ``quiet_db`` or softer) to 0.95 (at ``loud_db``
    or louder), by the median level of the voiced frames; "calm" is the rest."""

    def __init__(self, loud_db: float = -18.0, quiet_db: float = -38.0):
        self.preflight(loud_db, quiet_db)
        self.loud_db, self.quiet_db = loud_db, quiet_db

    @classmethod
    def preflight(cls, loud_db: float = -18.0, quiet_db: float = -38.0) -> None:
        """Run by streamemo before anything loads: a bad option is one line."""
        if not quiet_db < loud_db <= 0:
            raise ConfigError(
                f"audio.loud_db ({loud_db}) must be above audio.quiet_db ({quiet_db}) "
                "and at most 0 dB"
            )

    def analyse(self, audio: np.ndarray) -> AudioEmotion:
        levels = frame_levels(audio)
        voiced = levels[levels > FLOOR_DB]
        if len(voiced) == 0:  # silence: an even reading, so it is never taken for speech
            return AudioEmotion({"excited": 0.5, "calm": 0.5}, 0, "energy")
        position = (np.median(voiced) - self.quiet_db) / (self.loud_db - self.quiet_db)
        excited = 0.05 + 0.9 * float(np.clip(position, 0.0, 1.0))
        return AudioEmotion({"excited": excited, "calm": 1.0 - excited}, len(voiced), "energy")


@hookimpl
def register_audio_analysers(register):
    register("energy", EnergyEmotion)
