"""The diary view's screenshot for the docs: ``docs/diary-view.png``.

    python docs/screenshots.py [--out docs/diary-view.png]

Writes a realistic diary (three weeks of evening dictations, varied emotions, the voice
now and then hearing something else than the words) into a temporary folder through the
store API, serves it with the real ``streamemo diary serve``, and photographs the page in
headless Chromium (the system's, driven by Playwright; never ``playwright install``) with
the latest entry open. The picture is reduced to 256 colours to stay small. Takes about
10 seconds; the data are seeded and dated, so re-making it gives the same picture.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamemo.diary.store import Diary  # noqa: E402

LABELS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
VOICE = {"joy": "HAPPY", "sadness": "SAD", "anger": "ANGRY", "fear": "FEAR",
         "surprise": "SURPRISE", "disgust": "DISGUST", "neutral": "NEUTRAL"}  # fmt: skip
SAID = {
    "joy": [
        "We had breakfast on the balcony and the sun was already warm.",
        "Mia called and we laughed about the wedding for half an hour.",
        "I finally finished the chapter I had been stuck on for weeks.",
        "The walk along the river was lovely, everything is green again.",
        "My sister is coming to stay next weekend, I can't wait.",
        "The team liked the plan, and the meeting was over in twenty minutes.",
        "Dinner with old friends, we stayed until midnight.",
    ],
    "sadness": [
        "I keep thinking about Grandma, it would have been her birthday today.",
        "The flat feels very quiet since Tom moved out.",
        "I didn't get the job in the end, they chose someone from inside.",
        "It rained all day and I didn't leave the house.",
    ],
    "anger": [
        "The train was cancelled again and nobody told us why.",
        "The landlord still hasn't fixed the heating, that's three weeks now.",
        "I waited two hours at the clinic for a five minute talk.",
    ],
    "fear": [
        "The test results come on Friday and I can't stop thinking about it.",
        "I have the presentation tomorrow morning and I'm not ready.",
        "I woke up at four again and lay there going through everything that could go wrong.",
        "What if they find something, I don't know how I would tell the kids.",
        "The clinic called to move the appointment and my heart was racing.",
    ],
    "surprise": [
        "Out of nowhere my old teacher wrote to me.",
        "They moved the deadline forward by a whole week.",
    ],
    "disgust": ["Someone left the fridge at work full of old food again."],
    "neutral": [
        "Worked from home today, mostly emails and two calls.",
        "Did the shopping and cleaned the kitchen.",
        "Tomorrow I have to remember to book the dentist.",
        "Read for an hour before bed.",
        "Nothing special, a normal Tuesday really.",
    ],
}
LAST_DAY = datetime(2026, 11, 29)
# three weeks: ordinary days, a week of waiting for test results, then relief
PHASES = (
    (15, {"neutral": 3, "joy": 3, "surprise": 1, "sadness": 1}),
    (8, {"fear": 3, "sadness": 2, "anger": 2, "neutral": 2, "disgust": 1, "joy": 0.5}),
    (0, {"joy": 4, "surprise": 1.5, "neutral": 2, "sadness": 0.5}),
)
LAST_ENTRY = [  # the entry the picture opens: (label, text, what the voice hears)
    ("joy", "The results came back this morning and everything is fine.", "joy"),
    ("joy", "I called Mum straight away, she cried a little.", "sadness"),
    ("surprise", "The doctor said I can stop the tablets next month.", "surprise"),
    ("neutral", "Tomorrow I'll go back to the office.", "neutral"),
]


def scores(rng: random.Random, top: str, score: float, labels) -> dict[str, float]:
    """``top`` at ``score``, the rest shared unevenly, as a real model's output looks."""
    rest = {label: rng.random() ** 2 for label in labels if label != top}
    total = sum(rest.values())
    return {top: score, **{k: round((1 - score) * v / total, 4) for k, v in rest.items()}}


def event(rng: random.Random, uid: int, start: float, label: str, text: str, voice: str) -> dict:
    seconds = round(1.2 + len(text.split()) * 0.33 + rng.random(), 2)
    fused = round(rng.uniform(0.45, 0.9), 2)
    heard = scores(rng, VOICE[voice], round(rng.uniform(0.4, 0.8), 2), VOICE.values())
    read = scores(rng, label, round(rng.uniform(0.55, 0.97), 2), LABELS)
    return {
        "type": "utterance", "stream": "mic", "id": uid, "start": start,
        "end": round(start + seconds, 2), "text": text, "language": "en",
        "text_emotion": {"scores": read, "sentences": [], "model": "text"},
        "audio_emotion": {"scores": heard, "windows": 4, "model": "todai-audio-v1"},
        "emotion": {"label": label, "score": fused, "scores": scores(rng, label, fused, LABELS),
                    "sources": ["text", "audio"], "method": "weighted"},
        "latency_ms": 310.0, "timing": {},
    }  # fmt: skip


def write(path: Path, last_day: datetime) -> None:
    rng = random.Random(12)
    with Diary(path) as diary:
        for back in range(20, -1, -1):
            if back and rng.random() < 0.2:  # a day without an entry now and then
                continue
            day = (last_day - timedelta(days=back)).replace(hour=21, minute=rng.randrange(50))
            morning = [day.replace(hour=7, minute=rng.randrange(20, 50))] if back % 5 == 2 else []
            for started in [*morning, day]:
                said = LAST_ENTRY if started == day and not back else _day(rng, back)
                entry = diary.begin_entry("mic", started.timestamp())
                start = round(rng.uniform(0.4, 1.5), 2)
                for uid, (label, text, voice) in enumerate(said, 1):
                    one = event(rng, uid, start, label, text, voice)
                    diary.add_utterance(entry, one)
                    start = round(one["end"] + rng.uniform(0.6, 2.0), 2)
                diary.finish_entry(entry, started.timestamp() + start)


def _day(rng: random.Random, back: int) -> list[tuple[str, str, str]]:
    """What one entry of that day says: labels from its phase, no sentence twice."""
    weights = next(profile for last, profile in PHASES if back >= last)
    said, used = [], set()
    for _ in range(rng.randint(3, 6)):
        label = rng.choices(list(weights), list(weights.values()))[0]
        fresh = [t for t in SAID[label] if t not in used] or SAID["neutral"]
        text = rng.choice(fresh)
        used.add(text)
        voice = label if rng.random() > 0.2 else rng.choice(["neutral", "sadness", "fear"])
        said.append((label, text, voice))
    return said


def photograph(db: Path, out: Path, profile: Path) -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from tests.ws_helpers import chromium_page

    server = subprocess.Popen(
        [sys.executable, "-m", "streamemo", "diary", "serve", "--db", str(db), "--port", "0"],
        cwd=REPO, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = re.search(r"(http://\S+)", server.stderr.readline()).group(1)
        with sync_playwright() as pw, chromium_page(pw, profile) as page:
            page.set_viewport_size({"width": 1280, "height": 1000})
            page.goto(url)
            page.wait_for_function("() => window.streamemoDiary && window.streamemoDiary.ready")
            page.screenshot(path=str(out))
            if page.errors:
                raise SystemExit(f"the page failed: {page.errors}")
    finally:
        server.terminate()
        server.wait(20)
    Image.open(out).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "diary-view.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "diary.db"
        write(db, LAST_DAY)
        photograph(db, args.out, Path(folder) / "chromium")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
