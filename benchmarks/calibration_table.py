"""The calibration report's table (benchmarks/calibration_report.py), and its part of
benchmarks/README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import replace_marked

START = (
    "<!-- calibration:start (python -m benchmarks calibration --update-readme writes this part) -->"
)
END = "<!-- calibration:end -->"
ORDER = ["HAPPY", "SAD", "ANGRY", "ANXIOUS", "SURPRISE", "FEAR"]


def _tops(counts: dict[str, int]) -> str:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], ORDER.index(kv[0])))
    return ", ".join(f"{label} {n}" for label, n in ranked)


def _accuracy(found: dict[str, Any]) -> str:
    if found.get("ua") is None:
        return "(no labels)"
    return (
        f"{found['ua']:.3f} / {found['wa']:.3f} (n={found['scored']}, "
        f"chance {found['chance_ua']:.3f})"
    )


def markdown(r: dict[str, Any]) -> str:
    info, made = r["machine"], r["baselines"]
    neutral = ", ".join(name.removesuffix(".wav") for name in made["neutral_clips"])
    lines = [
        f"Run {r['date']} on `{info['node']}`: {info['cpu']}, {info['cores']} cores, Python "
        f"{info['python']}. Command: `{r['command']}` ({r['duration_s']:.0f} s). The seed's "
        "voice model as shipped (`todai-cnn-bilstm`, hop 50); the English personal "
        f"baseline by `streamemo calibrate` from {neutral} (0.8 s apart):",
        "",
        "```",
        made["calibrate_output"],
        "```",
        "",
        "| recording | baseline | top labels (utterances) | top label not male's | "
        "mean confidence | UA / WA |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for corpus, conditions in r["results"].items():
        male = [clip["top"] for clip in conditions["male"]["per_clip"]]
        for name, found in conditions.items():
            tops = [clip["top"] for clip in found["per_clip"]]
            moved = sum(a != b for a, b in zip(tops, male, strict=True))
            lines.append(
                f"| {corpus} ({found['clips']}) | {name} | {_tops(found['top_labels'])} | "
                f"{'' if name == 'male' else moved} | {found['mean_confidence']:.4f} | "
                f"{_accuracy(found)} |"
            )
    lines += [
        "",
        "UA: unweighted accuracy (the mean of the per-emotion recalls), WA: weighted (the "
        "share right), over the utterances whose label the model has (joy, sadness, anger, "
        "fear, surprise: not disgust or neutral), ANXIOUS and FEAR both counting as fear, as "
        "`benchmarks/ser_eval.py` scores them. The Korean sample with its own voice:",
        "",
        "```",
        f"$ streamemo calibrate --input audio/ko_diary_16k.wav   # exit {made['korean_exit']}",
        made["korean_refusal"],
        "```",
    ]
    for name, found in r["results"].get("ko_diary_16k", {}).items():
        scores = found.get("scores") or [{}]
        shown = ", ".join(f"{k} {v:.3f}" for k, v in scores[0].items())
        lines.append(f"- ko_diary_16k, {name}: {shown}")
    return "\n".join(lines)


def update_readme(path: Path, text: str) -> None:
    replace_marked(path, START, END, text)
