"""faster-whisper alone on one file, as a child process of the file-overhead benchmark.

Its own VAD (``vad_filter=True``), long-form transcription, the same model folder, device,
compute type, thread count and decoding options as streamemo's transcriber (beam size,
language, temperature 0, no conditioning on previous text). Prints one JSON line with
monotonic time marks, the transcript and how often the encoder ran.

    python -m benchmarks.whisper_alone --model DIR --threads 2 FILE
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    spawned = time.monotonic()
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="a CTranslate2 Whisper folder")
    parser.add_argument("--threads", type=int, required=True, help="cpu_threads")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--language", default="en")
    parser.add_argument("audio")
    args = parser.parse_args()

    from faster_whisper import WhisperModel

    imported = time.monotonic()
    model = WhisperModel(
        args.model, device="cpu", compute_type=args.compute_type, cpu_threads=args.threads
    )
    encoder = {"calls": 0, "seconds": 0.0}
    encode = model.encode

    def timed_encode(*a, **kw):
        t0 = time.perf_counter()
        try:
            return encode(*a, **kw)
        finally:
            encoder["calls"] += 1
            encoder["seconds"] += time.perf_counter() - t0

    model.encode = timed_encode
    loaded = time.monotonic()
    segments, info = model.transcribe(
        args.audio,
        language=args.language or None,
        beam_size=args.beam_size,
        vad_filter=True,
        temperature=0.0,
        condition_on_previous_text=False,
    )
    text = " ".join(segment.text.strip() for segment in segments).strip()
    done = time.monotonic()
    print(
        json.dumps(
            {
                "spawned": spawned,
                "imported": imported,
                "loaded": loaded,
                "done": done,
                "text": text,
                "duration_after_vad": info.duration_after_vad,
                "encoder": encoder,
            }
        )
    )


if __name__ == "__main__":
    main()
