"""The speech-emotion throughput table (benchmarks/ser_throughput.py) and its README part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import replace_marked

START = "<!-- ser:start (python -m benchmarks ser --update-readme writes this part) -->"
END = "<!-- ser:end -->"
HEADING = "## Speech-emotion throughput: the seed's model against a transformers checkpoint"
NAMES = {
    "seed": "seed `todai-cnn-bilstm` (3.2 s windows, hop 1.6 s)",
    "transformers": "`transformers`, wav2vec2-base size ({window:g} s windows, hop {hop:g} s)",
}


def _spread(stat: dict[str, Any], digits: int) -> str:
    return f"{stat['median']:.{digits}f} [{stat['min']:.{digits}f}-{stat['max']:.{digits}f}]"


def markdown(results: dict[str, Any]) -> str:
    m, ck = results["machine"], results["checkpoint"]
    opts = results["transformers_options"]
    load = f"{results['load_before'][0]:.2f} / {results['load_after'][0]:.2f}"
    lines = [
        f"Run {results['date']} on `{m['node']}`: {m['cpu']}, {m['cores']} cores, "
        f"Python {m['python']}, torch {m['packages'].get('torch')}, "
        f"{results['torch_threads']} torch threads; load average (1 min) before / after: "
        f"{load}. Command: `{results['command']}` ({results['duration_s']:.0f} s), "
        f"median of {results['reps']} passes [min-max] after one warm-up call.  ",
        f"Checkpoint: {ck['parameters'] / 1e6:.1f} M parameters ({ck['layers']} layers, width "
        f"{ck['hidden']}), random weights, {ck['safetensors_mb']} MB of safetensors, built in "
        f"{ck['build_s']:.1f} s, loaded by the analyser in {ck['load_s']:.1f} s; max_batch "
        f"{opts['max_batch']} windows per forward pass; windows of different lengths share a "
        f"pass: {'yes' if opts['windows_of_any_length_in_one_pass'] else 'no (no attention mask)'}."
        f" Peak RSS {results['peak_rss_mb']:.0f} MB.",
        "",
        "| utterances | audio | batch (utterances per call) | analyser | windows | forward "
        "passes | seconds | windows / s | × real time (audio s / compute s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key in results["seed"]:
        for side in ("seed", "transformers"):
            row = results[side][key]
            name = NAMES[side].format(window=opts["window_s"], hop=opts["hop_s"])
            lines.append(
                f"| {row['set']} ({row['utterances']}) | {row['audio_s']:.1f} s | {row['batch']} "
                f"| {name} | {row['windows']} | {row['forward_passes']} | "
                f"{_spread(row['seconds'], 3)} | {_spread(row['windows_per_s'], 1)} | "
                f"{_spread(row['x_realtime'], 1)} |"
            )
    return "\n".join(lines)


def update_readme(path: Path, text: str) -> None:
    replace_marked(path, START, END, text, HEADING)
