"""The two segmenters, webrtcvad and silero, on the shared fixtures, clean and with noise.

    python -m benchmarks vad                    # en_diary and en_long; clean, 20 10 5 0 dB
    python -m benchmarks vad --noise pink --snr 10 --out /tmp/vad.json

Each segmenter is run on the audio alone (in 30 ms blocks, as a microphone gives them),
with its defaults (those of the default config). Noise is generated with a fixed seed
(white: Gaussian; pink: white shaped to 1/f in the frequency domain) and scaled so that
the speech (the samples inside the truth's utterances) is SNR dB above it. An utterance
is matched to the truth by overlap: one detected utterance over one true one is *found*;
a true one covered by several is *split*; a detected one over several true ones is
*merged*; a detected one over none is a *false* alarm. Start and end errors are over the
found ones (detected minus true, median of the absolute value, ms; the end's signed
median too: negative is early). CPU: the process's
CPU time in the segmenter's feed/flush per second of audio (both run on one thread;
Silero's model load is apart, ``load_s``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import RESULTS, loadavg, log, machine, machine_slug, shared_path
from streamemo.audio_io import read_all
from streamemo.frames import SAMPLE_RATE, Block, Utterance

FIXTURES = ("en_diary", "en_long")
BLOCK = 480  # 30 ms: the microphone's block
SEED = 14


def noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white)
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum[1:] /= np.sqrt(f[1:])  # power falls as 1/f
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n)
    return pink / pink.std()


def speech_mask(n: int, truth: list[dict]) -> np.ndarray:
    mask = np.zeros(n, bool)
    for t in truth:
        mask[int(t["start"] * SAMPLE_RATE) : int(t["end"] * SAMPLE_RATE)] = True
    return mask


def mix(audio: np.ndarray, truth: list[dict], kind: str, snr_db: float) -> np.ndarray:
    """``audio`` with ``kind`` noise ``snr_db`` below the power of its speech."""
    x = audio.astype(np.float64)
    speech_power = float(np.mean(x[speech_mask(len(x), truth)] ** 2))
    n = noise(kind, len(x), np.random.default_rng(SEED))
    n *= np.sqrt(speech_power / 10 ** (snr_db / 10)) / n.std()
    return np.clip(x + n, -32768, 32767).astype(np.int16)


def segment(name: str, audio: np.ndarray) -> tuple[list[Utterance], float, float]:
    """The utterances, the load time and the CPU seconds of segmenting."""
    from streamemo.default_plugins.vad_segmenter import SileroSegmenter, VadSegmenter

    t0 = time.perf_counter()
    seg = {"webrtcvad": VadSegmenter, "silero": SileroSegmenter}[name](partial_hop_s=0)
    load = time.perf_counter() - t0
    found: list[Utterance] = []
    cpu = time.process_time()
    for i in range(0, len(audio), BLOCK):
        found += [u for u in seg.feed(Block(audio[i : i + BLOCK], 0.0)) if isinstance(u, Utterance)]
    found += list(seg.flush())
    return found, load, time.process_time() - cpu


def score(found: list[Utterance], truth: list[dict]) -> dict[str, Any]:
    spans = [(u.start / SAMPLE_RATE, u.end / SAMPLE_RATE) for u in found]
    over = [[j for j, t in enumerate(truth) if s < t["end"] and e > t["start"]] for s, e in spans]
    covering = [[i for i, js in enumerate(over) if j in js] for j in range(len(truth))]
    pairs = [(i, js[0]) for i, js in enumerate(over) if len(js) == 1 and len(covering[js[0]]) == 1]
    starts = [1000 * (spans[i][0] - truth[j]["start"]) for i, j in pairs]
    ends = [1000 * (spans[i][1] - truth[j]["end"]) for i, j in pairs]

    def median_abs(values: list[float]) -> float | None:
        return round(statistics.median(abs(v) for v in values)) if values else None

    return {
        "truth": len(truth),
        "detected": len(found),
        "found": len(pairs),
        "split": sum(len(c) > 1 for c in covering),
        "merged": sum(len(js) > 1 for js in over),
        "missed": sum(not c for c in covering),
        "false": sum(not js for js in over),
        "start_ms": median_abs(starts),
        "end_ms": median_abs(ends),
        "end_signed_ms": round(statistics.median(ends)) if ends else None,
    }


def run(kinds: list[str], snrs: list[float]) -> list[dict[str, Any]]:
    rows = []
    for fixture in FIXTURES:
        audio = read_all(shared_path(f"audio/en/{fixture}.wav"))
        truth = json.loads(shared_path(f"audio/en/{fixture}.json").read_text())["utterances"]
        conditions = [("clean", None)] + [(k, s) for k in kinds for s in snrs]
        for kind, snr in conditions:
            x = audio if snr is None else mix(audio, truth, kind, snr)
            for name in ("webrtcvad", "silero"):
                found, load, cpu = segment(name, x)
                row = {
                    "audio": fixture,
                    "noise": "clean" if snr is None else f"{kind} {snr:g} dB",
                    "segmenter": name,
                    **score(found, truth),
                    "cpu_per_audio_s": cpu / (len(x) / SAMPLE_RATE),
                    "load_s": load,
                }
                log(f"{fixture} {row['noise']} {name}: {row['found']}/{row['truth']}")
                rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| audio | noise | segmenter | found | split | merged | missed | false "
        "| start err (ms) | end err (ms) (signed) | CPU s / audio s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['audio']} | {r['noise']} | {r['segmenter']} | {r['found']} of {r['truth']} "
            f"| {r['split']} | {r['merged']} | {r['missed']} | {r['false']} "
            f"| {_ms(r['start_ms'])} | {_ms(r['end_ms'])}{_signed(r['end_signed_ms'])} "
            f"| {r['cpu_per_audio_s']:.4f} |"
        )
    return "\n".join(lines)


def _ms(value: int | None) -> str:
    return "-" if value is None else str(value)


def _signed(value: int | None) -> str:
    return "" if value is None else f" ({value:+d})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks vad", description=__doc__.split("\n")[0])
    p.add_argument("--noise", nargs="+", default=["white", "pink"], choices=["white", "pink"])
    p.add_argument("--snr", nargs="+", type=float, default=[20.0, 10.0, 5.0, 0.0], help="dB")
    p.add_argument("--out", type=Path, help=f"the results as JSON (default in {RESULTS})")
    args = p.parse_args(argv)
    before = loadavg()
    rows = run(args.noise, args.snr)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "load": {"before": before, "after": loadavg()},
        "rows": rows,
    }
    print(markdown(rows))
    print(f"load average before {before}, after {results['load']['after']}")
    out = (
        args.out
        or RESULTS / f"{time.strftime('%Y-%m-%d')}-{machine_slug(results['machine'])}-vad.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
