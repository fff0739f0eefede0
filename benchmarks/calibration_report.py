"""How the seed's voice model reads the shared recordings under a personal baseline, against
the male and female presets: top labels, mean confidence, accuracy where there are labels.

    python -m benchmarks calibration [--update-readme]

The English personal baseline is made by the real ``streamemo calibrate`` from the seven
neutral sentences of the shared clips (en_42..en_48, 0.8 s apart). Those clips are
neutral, which the model has no label for, so they are never among the clips scored for
accuracy. A second, "frame std" baseline takes the same speech's spread over single
frames instead of window means (the issue's wording), to show why calibrate does not.
The Korean sample (4.2 s, one utterance, no neutral speech of its speaker) is too short
to calibrate from: calibrate's refusal is shown, and the clip read under the presets and
under the English speaker's baseline (someone else's, as the presets are).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.calibration_table import markdown, update_readme
from benchmarks.common import REPO, RESULTS, machine, machine_slug, publish, shared_path
from benchmarks.ser_eval import evaluate

GAP_S = 0.8


def _wav(path: Path, samples: np.ndarray) -> Path:
    import soundfile

    soundfile.write(path, samples, 16000, subtype="PCM_16")
    return path


def _calibrate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streamemo", "calibrate", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _utterances(samples: np.ndarray) -> list[Any]:
    from streamemo.default_plugins.vad_segmenter import VadSegmenter
    from streamemo.frames import Block, Utterance

    segmenter = VadSegmenter(partial_hop_s=0)  # the built-in [segmenter]
    items = [*segmenter.feed(Block(samples, 0.0)), *segmenter.flush()]
    return [u for u in items if isinstance(u, Utterance)]


def baselines(work: Path) -> dict[str, Any]:
    """The English personal baseline (and its frame-std twin), and the Korean refusal."""
    from streamemo.audio_io import read_all
    from streamemo.default_plugins.voice_emotion.mfcc import mfcc_many

    clips = sorted(shared_path("audio/en/utterances").glob("en_*_neutral.wav"))
    gap = np.zeros(int(GAP_S * 16000), np.int16)
    speech = np.concatenate([part for clip in clips for part in (read_all(clip), gap)])
    neutral = _wav(work / "neutral.wav", speech)
    personal = work / "personal.json"
    made = _calibrate("--input", str(neutral), "--out", str(personal))
    if made.returncode:
        raise RuntimeError(f"calibrate failed: {made.stderr}")
    frames = np.concatenate(mfcc_many([u.audio for u in _utterances(speech)]))
    frame_std = work / "frame-std.json"
    frame_std.write_text(
        json.dumps({"mean": frames.mean(0).tolist(), "std": frames.std(0).tolist()})
    )
    korean = _calibrate("--input", str(shared_path("audio/ko_diary_16k.wav")), "--out",
                        str(work / "ko.json"))  # fmt: skip
    return {
        "neutral_clips": [c.name for c in clips],
        "calibrate_output": made.stdout.strip().replace(str(personal), "personal.json"),
        "personal": str(personal),
        "frame_std": str(frame_std),
        "korean_refusal": korean.stderr.strip().replace(str(shared_path("audio")), "audio"),
        "korean_exit": korean.returncode,
    }


def analyser(baseline: str) -> Any:
    from streamemo.config import load_config
    from streamemo.loading import build_stage
    from streamemo.plugins import Registry, get_plugin_manager

    config = load_config(None, [f"audio.baseline={baseline}"])  # the bundled seed weights
    return build_stage(config, Registry.collect(get_plugin_manager()), "audio")


def corpora(work: Path) -> dict[str, list[tuple[Path, str]]]:
    """The shared clips with their labels; en_diary's utterances as the segmenter cuts
    them (labelled by the truth utterance they overlap most); the Korean clip."""
    from streamemo.audio_io import read_all

    folder = shared_path("audio/en/utterances")
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    utterances = [(folder / row["file"], row["label"]) for row in index]
    diary = read_all(shared_path("audio/en/en_diary.wav"))
    truth = json.loads(shared_path("audio/en/en_diary.json").read_text(encoding="utf-8"))
    cut = []
    for i, u in enumerate(_utterances(diary)):
        start, end = u.start / 16000, u.end / 16000
        overlap = [min(end, t["end"]) - max(start, t["start"]) for t in truth["utterances"]]
        label = truth["utterances"][int(np.argmax(overlap))]["label"]
        cut.append((_wav(work / f"diary-{i:02d}.wav", u.audio), label))
    ko = [(_wav(work / "ko.wav", u.audio), "?") for u in _utterances(read_all(
        shared_path("audio/ko_diary_16k.wav")))]  # fmt: skip
    return {"en utterances": utterances, "en_diary": cut, "ko_diary_16k": ko}


def readings(voice: Any, clips: list[tuple[Path, str]]) -> dict[str, Any]:
    """ser_eval's figures where there are labels; the top labels and confidence anyway."""
    if any(label != "?" for _, label in clips):
        return evaluate(voice, clips, {})
    from streamemo.audio_io import read_all
    from streamemo.scores import confidence

    results = voice.analyse_many([read_all(path) for path, _ in clips])
    tops = [max(r.scores, key=r.scores.get) for r in results]
    return {
        "clips": len(clips), "scored": 0, "ua": None, "wa": None,
        "top_labels": {label: tops.count(label) for label in dict.fromkeys(tops)},
        "per_clip": [{"top": top} for top in tops],
        "mean_confidence": float(np.mean([confidence(r.scores) for r in results])),
        "scores": [r.scores for r in results],
    }  # fmt: skip


def run(work: Path) -> dict[str, Any]:
    made = baselines(work)
    conditions = {
        "male": "male", "female": "female", "personal": made["personal"],
        "personal, frame std": made["frame_std"],
    }  # fmt: skip
    shown = {**made, "personal": "personal.json", "frame_std": "frame-std.json"}
    out: dict[str, Any] = {"baselines": shown, "results": {}}
    for corpus, clips in corpora(work).items():
        for name, baseline in conditions.items():
            if corpus == "ko_diary_16k" and name == "personal, frame std":
                continue
            korean = corpus == "ko_diary_16k" and name == "personal"
            label = "personal (the English speaker's)" if korean else name
            found = readings(analyser(baseline), clips)
            out["results"].setdefault(corpus, {})[label] = found
            print(f"{corpus} / {label}: {found['top_labels']} conf {found['mean_confidence']:.4f}"
                  f" UA {found['ua']} WA {found['wa']}", file=sys.stderr)  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="python -m benchmarks calibration", description=__doc__)
    p.add_argument("--out", type=Path, default=RESULTS, help=f"folder for the JSON ({RESULTS})")
    p.add_argument("--update-readme", action="store_true", help="write the table into the README")
    a = p.parse_args(argv)
    started, info = time.monotonic(), machine()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": info,
        "command": " ".join(["python -m benchmarks calibration", *argv]),
    }
    with tempfile.TemporaryDirectory(prefix="streamemo-bench-calibration-") as tmp:
        results.update(run(Path(tmp)))
    results["duration_s"] = time.monotonic() - started
    name = f"{date.today():%Y-%m-%d}-{machine_slug(info)}-calibration.json"
    publish(results, a.out, name, markdown(results), update_readme if a.update_readme else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
