"""One frame of the segmenter's: its samples, webrtcvad's verdict and its level."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class Frame:
    start: int
    samples: np.ndarray
    voiced: bool
    arrived: float
    level: float  # dBFS
    loud: bool = False  # counts as speech for the end decision


def level_db(samples: np.ndarray) -> float:
    x = samples.astype(np.float32)
    power = float(np.dot(x, x)) / len(x)
    return 10 * math.log10(max(power, 1.0) / 32768**2)  # 1 LSB rms (-90 dBFS) at the least
