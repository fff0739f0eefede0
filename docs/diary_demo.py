"""A demo voice diary from real dictations, for the README's figures.

Two weeks of entries, each spoken by espeak-ng and dictated with ``streamemo diary record
--input`` (the whole real pipeline), then dated to the evening of its day: a dictation is
keyed by the time it was made, and these were all made in one sitting.

    python docs/diary_demo.py /tmp/demo.db            # about 10 minutes on 2 cores
    streamemo diary plot --db /tmp/demo.db --out docs/diary-plot.png
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import soundfile

RATE = 16_000
PAUSE_S = 1.2  # silence between sentences: each one is its own utterance

DAYS = [
    [
        "I had a lovely breakfast with my sister this morning.",
        "The sun was out and we laughed about our old school days.",
    ],
    ["Work was fine today.", "I finished the report and went for a long walk by the river."],
    ["I am worried about the meeting tomorrow.", "I could not sleep well last night."],
    ["The meeting went badly and my manager was angry with me.", "I felt terrible all afternoon."],
    ["I am so tired and sad this week.", "Nothing seems to go right at the office."],
    ["A quiet day at home.", "I read a book and cooked soup for dinner."],
    ["We went hiking in the hills and the view was wonderful.", "I feel happy and full of energy."],
    ["Monday again.", "I am nervous about the new project and afraid I will fail."],
    ["My friend called and cheered me up.", "We made plans for the weekend and I am excited."],
    ["The train was late and I was furious.", "Then I lost my keys, what a awful day."],
    ["Today I got good news, they liked my work.", "I am proud and really happy."],
    ["I visited my grandmother in the hospital.", "She looked weak and it made me very sad."],
    ["Grandmother is getting better, what a relief.", "We talked and laughed for an hour."],
    [
        "A perfect Sunday with the whole family.",
        "We had a picnic in the park and the children played all day.",
    ],
]


def spoken(sentences: list[str], folder: Path) -> tuple[np.ndarray, int]:
    parts = []
    for i, sentence in enumerate(sentences):
        wav = folder / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), sentence],
                       check=True, capture_output=True)  # fmt: skip
        audio, rate = soundfile.read(wav, dtype="float32")
        parts += [audio, np.zeros(int(rate * PAUSE_S), dtype="float32")]
    return np.concatenate([np.zeros(int(rate * 0.5), dtype="float32"), *parts]), rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="the demo diary to write (must not exist)")
    args = parser.parse_args()
    if args.db.exists():
        parser.error(f"{args.db} exists: give a new file")
    if shutil.which("espeak-ng") is None:
        parser.error("needs espeak-ng (apt-get install espeak-ng)")
    first = datetime.now().replace(hour=21, minute=0, second=0, microsecond=0)
    first -= timedelta(days=len(DAYS))
    with tempfile.TemporaryDirectory() as tmp:
        for n, sentences in enumerate(DAYS):
            audio, rate = spoken(sentences, Path(tmp))
            wav = Path(tmp) / f"day{n}.wav"
            soundfile.write(wav, audio, rate)
            subprocess.run(
                [sys.executable, "-m", "streamemo", "-q", "diary", "record", "--input",
                 str(wav), "--db", str(args.db)],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            when = (first + timedelta(days=n, minutes=7 * n)).timestamp()
            with sqlite3.connect(args.db) as db:  # dated to its day (see the docstring)
                db.execute(
                    "UPDATE entries SET ended_at = ? + (ended_at - started_at), started_at = ?"
                    " WHERE id = (SELECT max(id) FROM entries)",
                    (when, when),
                )
            print(f"day {n + 1}/{len(DAYS)}", file=sys.stderr)


if __name__ == "__main__":
    main()
