"""Accuracy of the offline text-emotion classifier on the shared dev set.

Usage: python benchmarks/text_accuracy.py [path/to/emotion_dev.jsonl]
The default path is $STREAMEMO_SHARED/text/emotion_dev.jsonl ($STREAMEMO_SHARED defaults to
<repo>/../shared). Prints overall and per-class accuracy and the confusion matrix.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def default_dev_path() -> Path:
    shared = Path(os.environ.get("STREAMEMO_SHARED", REPO.parent / "shared"))
    return shared / "text" / "emotion_dev.jsonl"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO))  # run from a checkout without installing
    from streamemo.default_plugins.offline_text.classifier import LABELS, OfflineEmotionClassifier

    path = Path(argv[0]) if argv else default_dev_path()
    if not path.is_file():
        print(f"dev set not found: {path} (set STREAMEMO_SHARED)", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    truth = np.array([LABELS.index(r["label"]) for r in rows])

    t0 = time.perf_counter()
    clf = OfflineEmotionClassifier.load()
    t1 = time.perf_counter()
    pred = clf.predict([r["text"] for r in rows]).argmax(1)
    t2 = time.perf_counter()

    print(f"dev set: {path} ({len(rows)} sentences)")
    print(f"load {t1 - t0:.2f} s, predict {1000 * (t2 - t1) / len(rows):.1f} ms/sentence (batch)")
    print(f"overall accuracy: {(pred == truth).mean():.3f}")
    print("per-class accuracy:")
    for k, label in enumerate(LABELS):
        sel = truth == k
        if sel.any():
            print(f"  {label:<9} {(pred[sel] == k).mean():.3f}  (n={sel.sum()})")
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    np.add.at(confusion, (truth, pred), 1)
    print("confusion matrix (rows = truth, columns = predicted):")
    print(" " * 10 + "".join(f"{label[:5]:>6}" for label in LABELS))
    for k, label in enumerate(LABELS):
        print(f"{label:<10}" + "".join(f"{n:>6}" for n in confusion[k]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
