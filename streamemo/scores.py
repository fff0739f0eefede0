"""What a score distribution says about itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def confidence(scores: Mapping[str, float] | Sequence[float]) -> float:
    """How far a score distribution is from flat, in [0, 1]: 1 - its entropy / log(n).

    0: every label equally likely, the model cannot tell; 1: all on one label. The
    seed's voice model on speech unlike its training data (top 0.19 of 6) gives about
    0.003; a top label at 0.42 of 6 with the rest even gives 0.1.
    """
    values = np.asarray(list(scores.values()) if isinstance(scores, Mapping) else scores, float)
    values = np.clip(values, 0.0, None)
    if len(values) < 2 or not np.all(np.isfinite(values)) or values.sum() <= 0:
        return 0.0  # one label, or no usable numbers: nothing tells one label from another
    p = values / values.sum()
    entropy = -float(np.sum(p[p > 0] * np.log(p[p > 0])))
    return float(min(1.0, max(0.0, 1.0 - entropy / np.log(len(p)))))
