"""Score an audio (voice-emotion) analyser on a folder of labelled clips.

    python benchmarks/ser_eval.py DIR [--config FILE] [-o audio.name=...] [--map calm=neutral]
    python -m benchmarks ser-eval DIR --json

The analyser is the config's ``[audio]`` stage, built through the registry as ``run``
builds it (the seed's, the transformers one, a third party's from --plugins-dir). Each
clip is one utterance. Labels are compared as emotions, whatever each side calls them
(HAPPY, happy, joy: joy; ANXIOUS and FEAR: fear), after ``--map`` (corpus label=model
label or emotion). Clips whose emotion the model has no label for are counted, not
scored. Prints unweighted accuracy (the mean of the per-class recalls: every emotion
counts the same), weighted accuracy (the share of clips right), the confusion matrix and
the counts; ``--json`` prints them as one JSON object. Layouts: see ser_corpus.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python benchmarks/ser_eval.py: from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ser_corpus import LAYOUTS, Clips, CorpusError, load

# corpus spellings that streamemo.scores.canonical does not know
SPELLINGS = {"fearful": "fear", "scared": "fear", "surprised": "surprise", "disgusted": "disgust"}


def emotion(label: str, mapping: dict[str, str] | None = None) -> str:
    from streamemo.scores import canonical

    label = (mapping or {}).get(label, label)
    return canonical(SPELLINGS.get(label.lower(), label))


def evaluate(analyser: Any, clips: Clips, mapping: dict[str, str], batch: int = 16) -> dict:
    """Every clip through ``analyser.analyse_many`` (``batch`` at a time): the figures."""
    from streamemo.audio_io import read_all
    from streamemo.scores import confidence

    started = time.perf_counter()
    results = analyser.analyse_many([read_all(clips[0][0])])
    labels = list(results[0].scores)
    classes = list(dict.fromkeys(emotion(label) for label in labels))  # what it can say
    truth = [emotion(label, mapping) for _, label in clips]
    if not any(t in classes for t in truth):  # after one clip, not all of them
        raise CorpusError(
            f"no clip's label ({', '.join(sorted(set(truth)))}) is an emotion the model "
            f"names ({', '.join(labels)}): map them with --map CORPUS_LABEL=MODEL_LABEL"
        )
    for i in range(1, len(clips), batch):
        results += analyser.analyse_many([read_all(path) for path, _ in clips[i : i + batch]])
    seconds = time.perf_counter() - started
    tops = [max(r.scores, key=r.scores.get) for r in results]
    predicted = [emotion(label) for label in tops]
    scored = [(t, p) for t, p in zip(truth, predicted, strict=True) if t in classes]
    rows = [c for c in classes if any(t == c for t, _ in scored)]
    confusion = [[sum(1 for t, p in scored if (t, p) == (r, c)) for c in classes] for r in rows]
    recall = {r: n[classes.index(r)] / sum(n) for r, n in zip(rows, confusion, strict=True)}
    return {
        "clips": len(clips),
        "scored": len(scored),
        "not_scored": dict(Counter(t for t in truth if t not in classes)),
        "model_labels": labels,
        "classes": classes,
        "counts": {r: sum(line) for r, line in zip(rows, confusion, strict=True)},
        "ua": sum(recall.values()) / len(recall) if recall else None,
        "wa": sum(t == p for t, p in scored) / len(scored) if scored else None,
        "chance_ua": 1 / len(rows) if rows else None,
        "recall": recall,
        "confusion": {"rows": rows, "columns": classes, "counts": confusion},
        "predicted": dict(Counter(predicted)),
        "top_labels": dict(Counter(tops)),
        "per_clip": [
            {"path": str(path), "label": label, "top": top, "confidence": confidence(r.scores)}
            for (path, label), top, r in zip(clips, tops, results, strict=True)
        ],
        "mean_confidence": sum(confidence(r.scores) for r in results) / max(1, len(results)),
        "seconds": round(seconds, 3),
    }


def report(found: dict, corpus: str) -> list[str]:
    """The figures as lines of text."""
    skipped = ", ".join(f"{k} {n}" for k, n in sorted(found["not_scored"].items()))
    lines = [
        f"corpus: {corpus}: {found['clips']} clips, {found['scored']} scored"
        + (f"; not scored (no model label): {skipped}" if skipped else ""),
        f"analyser: {found['analyser']} ({found['seconds']:.1f} s), "
        f"mean confidence {found['mean_confidence']:.3f}",
    ]
    lines += [
        f"unweighted accuracy (mean recall): {found['ua']:.3f}  "
        f"weighted accuracy (overall): {found['wa']:.3f}  "
        f"chance (UA): {found['chance_ua']:.3f}",
        "recall per class:",
        *(f"  {r:<10} {v:.3f}  (n={found['counts'][r]})" for r, v in found["recall"].items()),
        "confusion (rows: truth, columns: predicted):",
    ]
    matrix = found["confusion"]
    width = max(7, *(len(c) + 1 for c in matrix["columns"]))
    lines.append(" " * 10 + "".join(f"{c:>{width}}" for c in matrix["columns"]))
    for row, counts in zip(matrix["rows"], matrix["counts"], strict=True):
        lines.append(f"{row:<10}" + "".join(f"{n:>{width}}" for n in counts))
    return lines


def _mapping(items: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        if item.endswith(".json") and Path(item).is_file():
            mapping.update(json.loads(Path(item).read_text(encoding="utf-8")))
            continue
        corpus, sep, target = item.partition("=")
        if not sep or not corpus or not target:
            raise CorpusError(f"--map {item!r}: give CORPUS_LABEL=MODEL_LABEL or a .json file")
        mapping[corpus] = target
    return mapping


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_eval", description=__doc__.split("\n")[0])
    p.add_argument("dir", type=Path, metavar="DIR", help="a folder of labelled clips, or a CSV")
    p.add_argument("--layout", choices=LAYOUTS, help="the layout (default: detected)")
    p.add_argument("--config", metavar="FILE", help="a TOML config: its [audio] is scored")
    p.add_argument("-o", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. -o audio.baseline=female")  # fmt: skip
    p.add_argument("--plugins-dir", metavar="DIR", help="also load the plugins in DIR")
    p.add_argument("--map", action="append", default=[], metavar="CORPUS=MODEL",
                   help="a corpus label's model label (or emotion), or a JSON file")  # fmt: skip
    p.add_argument("--batch", type=int, default=16, help="clips per analyse_many call (16)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from streamemo.errors import PreflightError, StreamemoError

    try:
        layout, clips = load(args.dir, args.layout)
        mapping = _mapping(args.map)
        analyser = build_analyser(args)
        name = getattr(analyser, "name", None) or type(analyser).__name__
        found = {"corpus": str(args.dir), "layout": layout, "analyser": name, "map": mapping}
        found |= evaluate(analyser, clips, mapping, max(1, args.batch))
    except (CorpusError, StreamemoError, PreflightError) as exc:
        print(f"ser_eval: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(found, indent=1))
    else:
        print("\n".join(report(found, f"{args.dir} ({layout} layout)")))
    return 0


def build_analyser(args: argparse.Namespace) -> Any:
    """The config's [audio] stage, checked first (one line for what is wrong), then built."""
    from streamemo.config import load_config
    from streamemo.errors import ConfigError, PreflightError
    from streamemo.loading import build_stage
    from streamemo.plugins import Registry, get_plugin_manager
    from streamemo.preflight import check_stage

    config = load_config(args.config, args.overrides)
    registry = Registry.collect(get_plugin_manager(args.plugins_dir))
    if problems := check_stage(config, registry, "audio"):
        raise PreflightError(problems)
    analyser = build_stage(config, registry, "audio")
    if analyser is None:
        raise ConfigError("audio.enabled is false: there is no voice analyser to score")
    return analyser


if __name__ == "__main__":
    raise SystemExit(main())
