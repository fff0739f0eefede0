"""max_utterance_s on a minute of continuous speech: the real pipeline (file source,
webrtcvad, faster-whisper tiny.en) cuts it in quiet stretches, and no word at a cut is
lost or doubled."""

import itertools
import json

import jiwer
import numpy as np
import pytest

from streamemo.frames import SAMPLE_RATE
from tests.conftest import OFFLINE_CONFIG, run_cli
from tests.espeak import MONOLOGUE, speak
from tests.wer import normalise

MAX_S = 8.0


def _levels_db(audio: np.ndarray, cell: int = SAMPLE_RATE // 100) -> np.ndarray:
    x = audio[: len(audio) // cell * cell].reshape(-1, cell).astype(np.float64)
    return 10 * np.log10(np.maximum((x * x).mean(axis=1), 1.0) / 32768**2)


def _level_db(audio: np.ndarray, at: int) -> float:
    """The level of the 20 ms around sample ``at``."""
    return float(_levels_db(audio[at - SAMPLE_RATE // 100 : at + SAMPLE_RATE // 100], 320)[0])


def _alignment(ref: list[str], hyp: list[str]) -> list:
    return jiwer.process_words(" ".join(ref), " ".join(hyp)).alignments[0]


def _ref_index(chunks: list, j: int) -> int:
    """The reference word that hypothesis word ``j`` stands for (or is inserted before)."""
    chunk = next(c for c in chunks if c.type != "delete" and c.hyp_start_idx <= j < c.hyp_end_idx)
    return chunk.ref_start_idx + (0 if chunk.type == "insert" else j - chunk.hyp_start_idx)


def _damage(chunks: list, near: range, offset: int = 0) -> tuple[set[int], int]:
    """The reference words in ``near`` that are missing or heard wrong, and the words
    inserted among them."""
    wrong, extra = set(), 0
    for c in chunks:
        first, last = c.ref_start_idx + offset, c.ref_end_idx + offset
        if c.type in ("delete", "substitute"):
            wrong |= set(range(first, last)) & set(near)
        elif c.type == "insert" and near.start <= first <= near.stop:
            extra += c.hyp_end_idx - c.hyp_start_idx
    return wrong, extra


@pytest.mark.parametrize(
    "batch_max",
    [16, 1],
    ids=["packed", "one-at-a-time"],  # a file's parts wait and are packed; live ones are not
)
def test_a_minute_of_monologue_is_cut_in_pauses_and_no_word_is_lost_or_doubled(
    tmp_path, request, batch_max
):
    wav = tmp_path / "monologue.wav"
    audio = speak(MONOLOGUE, wav)
    assert len(audio) / SAMPLE_RATE > 55  # a minute, no sentence break in it
    out = tmp_path / "out.jsonl"
    run = run_cli(
        "run", "--config", str(OFFLINE_CONFIG), "--input", str(wav), "--sink", f"jsonl:{out}",
        "-o", "text.enabled=false", "-o", "audio.enabled=false",
        "-o", f"segmenter.max_utterance_s={MAX_S}", "-o", f"pipeline.batch_max={batch_max}",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    parts = [e for e in map(json.loads, out.read_text().splitlines()) if e["type"] == "utterance"]
    assert len(parts) >= 7
    for a, b in itertools.pairwise(parts):  # one monologue: each part goes on from the last
        assert a["end"] == b["start"]
        assert a["end"] - a["start"] <= MAX_S
    cuts = [round(p["end"] * SAMPLE_RATE) for p in parts[:-1]]

    # Each cut lies in the quietest stretch of the search window (from 3 s to 1 s before
    # the limit; the last second is heard across the cut), and well below the speech:
    # among the quietest 5 % of its 20 ms, and 10 dB below the speech's median or more.
    levels = _levels_db(audio)
    speech = float(np.median(levels[levels > -50]))
    for part, cut in zip(parts, cuts, strict=False):
        start = round(part["start"] * SAMPLE_RATE)
        window = range(
            start + round((MAX_S - 3) * SAMPLE_RATE), start + round((MAX_S - 1) * SAMPLE_RATE)
        )
        assert cut in window
        level = _level_db(audio, cut)
        others = np.array([_level_db(audio, t) for t in window[::80]])
        quieter = float(np.mean(others < level))
        assert quieter <= 0.05 and level < speech - 10, (
            f"cut at {cut / SAMPLE_RATE} s: {level - speech:.1f} dB from the speech,"
            f" {quieter:.0%} of the window quieter"
        )

    # The words at each cut, against Whisper on the same audio not cut (the 8 s around the
    # cut): a word next to the cut may be missing, garbled or extra only where it is so
    # there too (tiny.en does not hear every word of espeak-ng's right).
    ref = normalise(MONOLOGUE).split()
    hyp, owner = [], []
    for n, part in enumerate(parts):
        words = normalise(part["text"]).split()
        hyp += words
        owner += [n] * len(words)
    chunks = _alignment(ref, hyp)
    report, bad = [], []
    for n, cut in enumerate(cuts):
        j = owner.index(n + 1)  # the first word after the cut
        r = _ref_index(chunks, j)
        near = range(r - 2, r + 2)  # two words either side of the cut
        wrong, extra = _damage(chunks, near)
        wrong_uncut, extra_uncut = set(), 0
        if wrong or extra:  # is it the cut, or does Whisper hear it so anyway?
            whisper = request.getfixturevalue("whisper")
            around = audio[cut - 4 * SAMPLE_RATE : cut + 4 * SAMPLE_RATE]
            uncut = normalise(whisper.transcribe(around).text)
            first = max(0, r - 20)
            wrong_uncut, extra_uncut = _damage(
                _alignment(ref[first : r + 20], uncut.split()), near, offset=first
            )
        line = (
            f"{cut / SAMPLE_RATE:6.2f} s: {' '.join(hyp[j - 3 : j])} | {' '.join(hyp[j : j + 3])}"
            f"  (said: {' '.join(ref[r - 3 : r])} | {' '.join(ref[r : r + 3])};"
            f" wrong {[ref[i] for i in sorted(wrong)]}, extra {extra};"
            f" not cut: wrong {[ref[i] for i in sorted(wrong_uncut)]}, extra {extra_uncut})"
        )
        report.append(line)
        if not wrong <= wrong_uncut or extra > extra_uncut:
            bad.append(line)
    print("\n".join(report))
    assert not bad, "\n".join(report)
    assert jiwer.wer(" ".join(ref), " ".join(hyp)) < 0.15
