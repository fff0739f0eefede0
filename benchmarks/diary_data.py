"""A generated voice diary for the diary benchmark: one entry a day for ``days`` days.

Each entry is an evening dictation (19:00-23:00) of about ``per_entry`` utterances
(Poisson), each 1.5-8 s long with 0.3-2 s pauses, its text 4-24 words drawn from a diary
vocabulary of about 250 words by a Zipf law (so "today" is common), with the rare word
"zeppelin" in one utterance of every 7 000. The emotions are drawn per utterance (text
and voice, Dirichlet) around the day's own mood, which drifts slowly over the years; the
fused one is their weighted mean. The events have the shape ``streamemo run`` writes
(text, voice and fused emotion with their scores, latency, timing), so their JSON is as
large as a real one's (about 1 KB).

It is written through the real schema, indexes and triggers (FTS5, words, mood) with the
store's own insert, but in one transaction without fsync (``synchronous = OFF`` on the
generating connection only), so that 100 000 utterances take seconds. Not timed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from streamemo.diary.store import Diary, _insert

LABELS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
COMMON, RARE = "today", "zeppelin"
VOCABULARY = """
i the and to a was it of my in that we so but today it's with me for had on at this
just is not have went be felt really then all about they she he what when up out were
one like some work time day got back home little bit after think know again more very
good long morning evening night tired happy sad coffee tea breakfast lunch dinner friend
friends family mother father sister brother kids dog cat walk park rain sun weather
cold warm office meeting email call phone project deadline boss colleague team train
bus car traffic late early slept dream woke read book film music song played guitar
cooked soup bread garden flowers tree river city street shop bought paid money rent
week weekend monday tuesday wednesday thursday friday saturday sunday month year
tomorrow yesterday later worried anxious calm angry annoyed excited glad proud lonely
hope plan trip holiday beach mountain snow birthday party gift laughed cried talked
listened quiet noisy busy lazy headache doctor better worse sick healthy gym ran
swimming yoga news letter message visit neighbour kitchen window door room bed sofa
""".split()
HOURS = (19, 20, 21, 22)
RARE_EVERY = 7000  # the rare word: in one utterance of this many


def generate(
    path: Path, *, days: int = 1096, per_entry: float = 91.0, seed: int = 12
) -> dict[str, int]:
    """Write the diary to ``path`` (a new file); returns what was written."""
    rng = np.random.default_rng(seed)
    words = np.array(VOCABULARY)
    zipf = 1.0 / np.arange(1, len(VOCABULARY) + 1) ** 1.07
    first = datetime(2024, 1, 1)
    day_mood, utterances = 0.0, 0
    with Diary(path) as diary:
        diary._db.execute("PRAGMA synchronous = OFF")  # this connection only: not timed
        with diary._write() as db:
            for day in range(days):
                day_mood = float(np.clip(0.9 * day_mood + rng.normal(0, 0.35), -1.5, 1.5))
                start = first + timedelta(days=day, hours=int(rng.choice(HOURS)))
                start += timedelta(minutes=int(rng.integers(0, 60)))
                entry = db.execute(
                    "INSERT INTO entries (stream, started_at) VALUES ('mic', ?)",
                    (start.timestamp(),),
                ).lastrowid
                count = max(1, int(rng.poisson(per_entry)))
                lengths = rng.integers(4, 25, count)
                said = rng.choice(words, int(lengths.sum()), p=zipf / zipf.sum()).tolist()
                seconds = rng.uniform(1.5, 8.0, count)
                pauses = rng.uniform(0.3, 2.0, count)
                moods = _scores(rng, day_mood, 2 * count)
                clock, at = 0.3, 0
                for uid in range(count):
                    text = said[at : at + lengths[uid]]
                    at += lengths[uid]
                    if (utterances + uid) % RARE_EVERY == 100:
                        text[len(text) // 2] = RARE
                    text[0] = text[0].capitalize()
                    end = clock + float(seconds[uid])
                    event = _event(uid + 1, clock, end, " ".join(text) + ".", moods[2 * uid :])
                    _insert(db, entry, event)
                    clock = end + float(pauses[uid])
                db.execute(
                    "UPDATE entries SET ended_at = ? WHERE id = ?",
                    (start.timestamp() + clock, entry),
                )
                utterances += count
    return {"entries": days, "utterances": utterances}


def _scores(rng: np.random.Generator, day_mood: float, n: int) -> list[dict[str, float]]:
    # the day's mood tilts the odds: joy up when it is good, sadness/anger/fear when not
    tilt = np.array([day_mood, -day_mood, -0.6 * day_mood, -0.4 * day_mood, 0.2, -0.3, 0.6])
    p = np.round(rng.dirichlet(np.exp(tilt) * 1.2, n), 6).tolist()
    return [dict(zip(LABELS, row, strict=True)) for row in p]


def _event(uid: int, start: float, end: float, text: str, scores: list[dict]) -> dict:
    text_scores, voice_scores = scores[0], scores[1]
    fused = {k: round(0.6 * text_scores[k] + 0.4 * voice_scores[k], 6) for k in LABELS}
    label = max(fused, key=fused.__getitem__)
    return {
        "type": "utterance",
        "stream": "mic",
        "id": uid,
        "start": round(start, 3),
        "end": round(end, 3),
        "text": text,
        "language": "en",
        "text_emotion": {
            "scores": text_scores,
            "sentences": [_sentence(text, text_scores)],
            "model": "offline-en",
        },
        "audio_emotion": {"scores": voice_scores, "windows": 3, "model": "todai-audio-v1"},
        "emotion": {
            "label": label,
            "score": fused[label],
            "scores": fused,
            "sources": ["text", "audio"],
            "method": "weighted",
        },
        "latency_ms": round(700 + 7 * (uid % 100), 1),
        "timing": {"transcribe": 310.0, "text": 12.0, "audio": 20.0},
    }


def _sentence(text: str, scores: dict[str, float]) -> dict:
    label = max(scores, key=scores.__getitem__)
    return {"text": text, "label": label, "score": scores[label]}
