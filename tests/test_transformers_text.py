"""Tests of the ``transformers`` text analyser on a tiny BERT built and trained here.

No hub is reached: the model is saved to a folder (and into a hand-made HF cache)
and loaded through the same code path a user's ``-o text.model=...`` takes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from streamemo.default_plugins.transformers_text import TransformersTextEmotion
from streamemo.errors import ConfigError, ModelNotFoundError
from streamemo.events import TextEmotion
from tests.hf_cache import fill_cache

LABELS = ["joy", "anger", "sadness"]
POSITIONS = 64  # max_position_embeddings: longer inputs crash unless truncated
WORDS = (
    "i am so very really feel today this day is it was a the what me "
    "happy glad joyful great wonderful love "
    "angry furious mad hate annoyed rage "
    "sad lonely cry miserable gloomy tears"
).split()
TRAIN = {
    "joy": ["happy", "glad", "joyful", "great", "wonderful", "love"],
    "anger": ["angry", "furious", "mad", "hate", "annoyed", "rage"],
    "sadness": ["sad", "lonely", "cry", "miserable", "gloomy", "tears"],
}
FRAMES = ["i am {}", "i feel so {}", "this day is {}", "what a {} day", "{}", "it was really {}"]
REPO_ID = "testorg/tiny-emotion"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _build_model(folder: Path) -> None:
    """Train a tiny BERT until emotion words decide the label; save model and tokenizer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True)
    vocab = folder / "vocab.txt"
    vocab.write_text(
        "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "!", "?", *WORDS]) + "\n",
        encoding="utf-8",
    )
    tokenizer = BertTokenizerFast.from_pretrained(folder, local_files_only=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=POSITIONS,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    model = BertForSequenceClassification(config)
    texts = [frame.format(w) for words in TRAIN.values() for w in words for frame in FRAMES]
    targets = torch.tensor(
        [LABELS.index(label) for label, words in TRAIN.items() for _ in words for _ in FRAMES]
    )
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    assert not (batch["input_ids"] == tokenizer.unk_token_id).any(), "words missing from vocab"
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(60):
        optimiser.zero_grad()
        loss = model(**batch, labels=targets).loss
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(**batch).logits.argmax(-1) == targets).float().mean().item()
    assert accuracy == 1.0, f"the tiny model did not learn its training set ({accuracy:.2f})"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny") / "tiny-emotion"
    _build_model(folder)
    return folder


@pytest.fixture(scope="module")
def analyser(model_dir: Path) -> TransformersTextEmotion:
    return TransformersTextEmotion(model=str(model_dir))


def _generic_copy(model_dir: Path, target: Path) -> Path:
    """The same model with only LABEL_0.. labels in its config.json."""
    shutil.copytree(model_dir, target)
    config_file = target / "config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(len(LABELS))}
    config["label2id"] = {f"LABEL_{i}": i for i in range(len(LABELS))}
    config_file.write_text(json.dumps(config), encoding="utf-8")
    return target


def test_labels_come_from_config_in_id_order(
    analyser: TransformersTextEmotion, model_dir: Path
) -> None:
    assert analyser.labels == LABELS
    assert analyser.name == str(model_dir)


def test_many_labels_keep_numeric_id_order(model_dir: Path, tmp_path: Path) -> None:
    """Ids 0..11, written out of order: label 10 comes after 9, not after 1."""
    from transformers import BertConfig, BertForSequenceClassification

    names = [f"emotion{i}" for i in range(12)]
    folder = tmp_path / "twelve"
    shutil.copytree(model_dir, folder)
    config = BertConfig.from_pretrained(folder)
    config.id2label = {i: names[i] for i in (11, 3, 10, 0, 1, 2, 9, 4, 5, 6, 7, 8)}
    config.label2id = {name: i for i, name in enumerate(names)}
    BertForSequenceClassification(config).save_pretrained(folder)
    analyser = TransformersTextEmotion(model=str(folder))
    assert analyser.labels == names
    assert analyser.predict(["i am happy"]).shape == (1, 12)


def test_predict_is_a_probability_matrix(analyser: TransformersTextEmotion) -> None:
    sentences = ["I am happy", "I am angry", "I am sad", "what a wonderful day"]
    probs = analyser.predict(sentences)
    assert probs.shape == (4, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert [LABELS[i] for i in probs.argmax(axis=1)] == ["joy", "anger", "sadness", "joy"]
    # batches of one give the same numbers as one padded batch
    small = TransformersTextEmotion(model=analyser.name, batch_size=1)
    np.testing.assert_allclose(small.predict(sentences), probs, atol=1e-5)


def test_share_counts_sentences_per_label(analyser: TransformersTextEmotion) -> None:
    result = analyser.analyse("I am happy. I am angry!")
    assert isinstance(result, TextEmotion)
    assert [s.text for s in result.sentences] == ["I am happy", "I am angry"]
    assert [s.label for s in result.sentences] == ["joy", "anger"]
    assert all(0.5 < s.score <= 1.0 for s in result.sentences)
    assert result.scores == {"joy": 0.5, "anger": 0.5, "sadness": 0.0}
    assert result.model == analyser.name


def test_mean_averages_probabilities(model_dir: Path) -> None:
    mean = TransformersTextEmotion(model=str(model_dir), aggregate="mean")
    result = mean.analyse("I am happy. I am angry!")
    assert result is not None
    assert list(result.scores) == LABELS
    expected = mean.predict(["I am happy", "I am angry"]).mean(axis=0)
    np.testing.assert_allclose([result.scores[label] for label in LABELS], expected, atol=1e-6)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-5)
    # probabilities, not counts: no label gets exactly half here
    assert result.scores["joy"] != 0.5 and result.scores["sadness"] > 0.0
    assert [s.label for s in result.sentences] == ["joy", "anger"]


def test_many_texts_at_once_equal_one_by_one(model_dir: Path) -> None:
    mean = TransformersTextEmotion(model=str(model_dir), aggregate="mean", batch_size=4)
    texts = ["I am happy. I am angry!", "", "So sad today.", "Great! Awful. Fine? Yes."]
    together = mean.analyse_many(texts)
    assert len(together) == len(texts) and together[1] is None
    for text, got in zip(texts, together, strict=True):
        want = mean.analyse(text)
        if want is None:
            continue
        assert got is not None
        assert [s.text for s in got.sentences] == [s.text for s in want.sentences]
        for label, score in want.scores.items():
            assert got.scores[label] == pytest.approx(score, abs=1e-5)
    assert mean.analyse_many([]) == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n", "...!?", " . ! "])
def test_no_sentences_give_none(analyser: TransformersTextEmotion, text: str) -> None:
    assert analyser.analyse(text) is None


def test_generic_labels_use_label_map(model_dir: Path, tmp_path: Path) -> None:
    folder = _generic_copy(model_dir, tmp_path / "generic")
    names = ["Freude", "Wut", "Trauer"]
    (folder / "label_map.json").write_text(
        json.dumps({"id2label": {str(i): name for i, name in enumerate(names)}}),
        encoding="utf-8",
    )
    analyser = TransformersTextEmotion(model=str(folder))
    assert analyser.labels == names
    result = analyser.analyse("I am sad. I feel so glad.")
    assert result is not None
    assert [s.label for s in result.sentences] == ["Trauer", "Freude"]
    assert result.scores == {"Freude": 0.5, "Wut": 0.0, "Trauer": 0.5}


def test_generic_labels_without_label_map_fail(model_dir: Path, tmp_path: Path) -> None:
    folder = _generic_copy(model_dir, tmp_path / "generic")
    with pytest.raises(ModelNotFoundError) as info:
        TransformersTextEmotion(model=str(folder))
    message = str(info.value)
    assert "\n" not in message
    assert str(folder) in message
    assert "label_map.json" in message and "id2label" in message


@pytest.mark.parametrize("aggregate", ["median", "", "Share"])
def test_bad_aggregate_is_a_config_error(model_dir: Path, aggregate: str) -> None:
    with pytest.raises(ConfigError) as info:
        TransformersTextEmotion(model=str(model_dir), aggregate=aggregate)
    assert str(info.value) == f"text.aggregate must be one of share, mean, not {aggregate!r}"


def test_max_length_truncates_long_sentences(model_dir: Path) -> None:
    analyser = TransformersTextEmotion(model=str(model_dir), max_length=32)
    long = "I am so happy " + "happy " * 1000  # ~1000 tokens, far past 64 positions
    result = analyser.analyse(long + ". I am angry")
    assert result is not None
    assert [s.label for s in result.sentences] == ["joy", "anger"]
    # truncation is what made it work: the untruncated input cannot fit the model
    analyser.max_length = 10_000
    with pytest.raises((IndexError, RuntimeError)):
        analyser.predict([long])


def test_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        TransformersTextEmotion(model=str(tmp_path / "nope" / "model"))
    assert "\n" not in str(info.value) and "-o text.model" in str(info.value)


# --- by hub id, through the Hugging Face cache, offline ------------------------------------

_LOAD = """
from streamemo.default_plugins.transformers_text import TransformersTextEmotion
from streamemo.errors import ModelNotFoundError
try:
    analyser = TransformersTextEmotion(model={model!r})
except ModelNotFoundError as exc:
    print("ERROR", exc)
else:
    result = analyser.analyse("I am happy. I am angry!")
    print("LABELS", ",".join(analyser.labels))
    print("SENTENCES", ",".join(s.label for s in result.sentences))
    print("FOLDER", analyser.tokenizer.name_or_path)
"""


def _offline(model: str, cache: Path) -> subprocess.CompletedProcess:
    """Load ``model`` in a child: huggingface_hub reads its env vars once, at import."""
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(cache),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    return subprocess.run(
        [sys.executable, "-c", _LOAD.format(model=model)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_hub_id_loads_from_offline_cache(model_dir: Path, tmp_path: Path) -> None:
    snapshot = fill_cache(model_dir, tmp_path / "hub", REPO_ID, COMMIT)
    done = _offline(REPO_ID, tmp_path / "hub")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert "ERROR" not in lines, lines["ERROR"]
    assert lines["LABELS"] == ",".join(LABELS)
    assert lines["SENTENCES"] == "joy,anger"
    assert Path(lines["FOLDER"]) == snapshot


def test_hub_id_missing_offline_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    done = _offline("nobody/missing-model", tmp_path / "hub")
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.strip()
    assert out.startswith("ERROR "), out
    assert "\n" not in out  # the message is one line
    assert "'nobody/missing-model'" in out
    assert "HF cache" in out and str(tmp_path / "hub") in out
    assert "-o text.model" in out
