"""benchmarks/ser_eval.py on small corpora built here from the shared clips, in each
layout; the expected figures computed in the test from the analysers called directly."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, shared

# two clips of each of six emotions; the seed's model has no neutral: those are not scored
PICKED = ["00_joy", "01_joy", "07_sadness", "08_sadness", "14_anger", "15_anger", "21_fear",
          "22_fear", "28_surprise", "29_surprise", "42_neutral", "43_neutral"]  # fmt: skip
RAVDESS_CODE = {"neutral": "01", "joy": "03", "sadness": "04", "anger": "05",
                "fear": "06", "surprise": "08"}  # fmt: skip
SEED_EMOTION = {"HAPPY": "joy", "SAD": "sadness", "ANGRY": "anger", "ANXIOUS": "fear",
                "FEAR": "fear", "SURPRISE": "surprise"}  # fmt: skip


def clips() -> list[tuple[Path, str]]:
    folder = shared("audio/en/utterances")
    return [(folder / f"en_{name}.wav", name.split("_")[1]) for name in PICKED]


def build(layout: str, root: Path) -> Path:
    """The clips as a corpus in ``layout`` (symlinks), under ``root``."""
    root.mkdir()
    if layout == "csv":
        (root / "clips").mkdir()
        with (root / "labels.csv").open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["file", "emotion"])
            for path, label in clips():
                (root / "clips" / path.name).symlink_to(path)
                writer.writerow([f"clips/{path.name}", label])
    elif layout == "json":  # as the shared clips' own index.json
        rows = []
        for path, label in clips():
            (root / path.name).symlink_to(path)
            rows.append({"file": path.name, "label": label, "text": "..."})
        (root / "index.json").write_text(json.dumps(rows))
    elif layout == "folders":
        for path, label in clips():
            (root / label).mkdir(exist_ok=True)
            (root / label / path.name).symlink_to(path)
    else:  # RAVDESS: Actor_NN folders, the emotion in the third field, happy for joy...
        for i, (path, label) in enumerate(clips()):
            actor = root / f"Actor_{1 + i % 2:02d}"
            actor.mkdir(exist_ok=True)
            name = f"03-01-{RAVDESS_CODE[label]}-01-0{1 + i % 2}-01-{1 + i % 2:02d}.wav"
            (actor / name).symlink_to(path)
    return root


def ser_eval(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    way = ["-m", "benchmarks", "ser-eval"] if module else [str(REPO / "benchmarks/ser_eval.py")]
    return subprocess.run(
        [sys.executable, *way, *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def expected(truth: list[str], predicted: list[str], classes: list[str]) -> dict:
    """UA, WA and the confusion matrix, computed here from scratch."""
    rows = [c for c in classes if c in truth]
    confusion = [[0] * len(classes) for _ in rows]
    for t, p in zip(truth, predicted, strict=True):
        if t in rows:
            confusion[rows.index(t)][classes.index(p)] += 1
    recalls = [confusion[i][classes.index(r)] / sum(confusion[i]) for i, r in enumerate(rows)]
    scored = [(t, p) for t, p in zip(truth, predicted, strict=True) if t in rows]
    return {
        "ua": float(np.mean(recalls)),
        "wa": sum(t == p for t, p in scored) / len(scored),
        "confusion": {"rows": rows, "columns": classes, "counts": confusion},
    }


@pytest.fixture(scope="module")
def seed_predictions() -> list[str]:
    from streamemo.audio_io import read_all
    from streamemo.default_plugins.voice_emotion import BUNDLED, VoiceEmotion

    voice = VoiceEmotion(model=BUNDLED, baseline="male")
    results = [voice.analyse(read_all(path)) for path, _ in clips()]
    return [SEED_EMOTION[max(r.scores, key=r.scores.get)] for r in results]


@pytest.mark.parametrize("layout", ["csv", "json", "folders", "ravdess"])
def test_each_layout_is_found_and_scored_as_the_analyser_says(layout, tmp_path, seed_predictions):
    corpus = build(layout, tmp_path / layout)
    result = ser_eval(str(corpus), "--json", module=layout == "ravdess")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["layout"] == layout
    assert (found["clips"], found["scored"], found["not_scored"]) == (12, 10, {"neutral": 2})
    classes = ["joy", "sadness", "anger", "fear", "surprise"]
    want = expected([label for _, label in clips()], seed_predictions, classes)
    assert found["confusion"] == want["confusion"]
    assert found["ua"] == pytest.approx(want["ua"]) and found["wa"] == pytest.approx(want["wa"])
    assert found["counts"] == dict.fromkeys(classes, 2)


def test_a_third_party_analyser_with_a_label_map(tmp_path):
    """plugins/energy_emotion.py ("excited"/"calm" by loudness) on clips made louder and
    softer, the corpus labels mapped onto its two."""
    import soundfile

    from streamemo.audio_io import read_all

    sys.path.insert(0, str(REPO / "plugins"))
    try:
        from energy_emotion import EnergyEmotion
    finally:
        sys.path.remove(str(REPO / "plugins"))
    rows, truth, predicted = [], [], []
    energy = EnergyEmotion()
    for i, (path, label) in enumerate(clips()):
        samples = (read_all(path) * [0.05, 0.3, 1.0][i % 3]).astype(np.int16)
        soundfile.write(tmp_path / f"{i}.wav", samples, 16000, subtype="PCM_16")
        rows.append(f"{i}.wav,{label}")
        truth.append("excited" if label in ("joy", "anger", "surprise", "fear") else "calm")
        scores = energy.analyse(samples).scores
        predicted.append(max(scores, key=scores.get))
    (tmp_path / "corpus.csv").write_text("\n".join(rows) + "\n")
    maps = [f"--map={k}=excited" for k in ("joy", "anger", "surprise", "fear")]
    maps += ["--map=sadness=calm", "--map=neutral=calm"]
    args = [str(tmp_path / "corpus.csv"), "-o", "audio.name=energy", *maps]
    result = ser_eval("--plugins-dir", str(REPO / "plugins"), *args, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    want = expected(truth, predicted, ["excited", "calm"])
    assert found["confusion"] == want["confusion"]
    assert all(sum(column) for column in zip(*want["confusion"]["counts"], strict=True))
    assert found["ua"] == pytest.approx(want["ua"]) and found["scored"] == 12
    text = ser_eval("--plugins-dir", str(REPO / "plugins"), *args)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert f"unweighted accuracy (mean recall): {want['ua']:.3f}" in lines[2]
    assert f"weighted accuracy (overall): {want['wa']:.3f}" in lines[2]
    assert lines[-3].split() == ["excited", "calm"]  # the matrix's head, then its rows


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d, "has no labelled clips: give a CSV of path,label"),
        (lambda d: d / "missing", "not found: give a folder of labelled clips or a CSV"),
        (lambda d: (d / "a.csv").write_text("gone.wav,joy\n") and d,
         "a.csv: 'gone.wav' not found (relative to the CSV)"),
        (lambda d: [(d / n).write_text("x,joy\n") for n in ("a.csv", "b.csv")] and d,
         "holds several CSVs (a.csv, b.csv): give the one to use"),
        (lambda d: (d / "odd").mkdir() or (d / "odd" / "x.wav").symlink_to(clips()[0][0]) or d,
         "no clip's label (odd) is an emotion the model names"),
    ],
)  # fmt: skip
def test_a_folder_that_is_not_a_corpus_is_one_line(make, message, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    result = ser_eval(str(make(corpus)))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("ser_eval: error: ") and message in line, line
