"""Every example plugin in docs/plugins/ runs, as a plugin file, and does what its page
says; each uses only streamemo.api; every relative link on the pages leads somewhere."""

from __future__ import annotations

import ast
import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from streamemo.api import ConfigError, InputError
from streamemo.stages import KINDS
from streamemo.testing import (
    make_audio_emotion,
    make_text_emotion,
    run_pipeline,
    run_sink,
    run_stage,
    silence,
    speechlike,
    synthetic_events,
    tone,
    utterances,
)
from streamemo.testing.fakes import FixedTranscriber
from tests.conftest import REPO, run_cli

DOCS = REPO / "docs" / "plugins"
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\s*```python\n(.*?)```", re.S)


def examples() -> dict[str, tuple[str, str]]:
    """name -> (page, code) of every marked example."""
    found: dict[str, tuple[str, str]] = {}
    for page in sorted(DOCS.glob("*.md")):
        for name, code in EXAMPLE.findall(page.read_text()):
            assert name not in found, f"two examples named {name}"
            found[name] = (page.name, code)
    return found


@pytest.fixture
def plugin(tmp_path):
    """The example as a plugin file alone in a --plugins-dir folder: (folder, module)."""

    def load(name: str):
        folder = tmp_path / "plugins"
        folder.mkdir()
        (folder / f"{name}.py").write_text(examples()[name][1])
        import importlib.util

        spec = importlib.util.spec_from_file_location(f"docs_example_{name}", folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return folder, module

    return load


def check_csv_sink(plugin, tmp_path):
    folder, module = plugin("csv_sink")
    out = tmp_path / "run.csv"
    run = run_pipeline(plugins_dir=folder, sinks=[f"csv:{out}"])
    rows = list(csv.DictReader(out.open()))
    assert (
        [r["text"] for r in rows]
        == [u.text for u in run.utterances]
        == [
            "hello there",
            "how are you",
            "goodbye",
        ]
    )
    assert [r["emotion"] for r in rows] == ["joy"] * 3 and rows[0]["stream"] == "test"
    alone = tmp_path / "alone.csv"
    result = run_sink(module.CsvSink(str(alone), delimiter=";"), synthetic_events())
    assert (result.written, result.failed, result.finished) == (3, 0, True)
    assert alone.read_text().splitlines()[2].split(";")[4] == "sadness"
    with pytest.raises(OSError):  # a path that cannot be written fails at start-up
        module.CsvSink(str(tmp_path / "no" / "such" / "dir.csv"))


def check_raw_source(plugin, tmp_path):
    folder, module = plugin("raw_source")
    path = tmp_path / "two.pcm"
    audio = utterances(1.0, 1.5)
    audio.astype("<i2").tofile(path)
    run = run_pipeline(plugins_dir=folder, source="raw", options={"source": {"input": str(path)}})
    assert len(run.utterances) == 2 and {u.stream for u in run.events} == {"two.pcm"}
    assert run.counters["samples"] == len(audio)
    assert module.RawPcmSource.reads_files is True
    with pytest.raises(InputError, match="is not a file"):
        module.RawPcmSource(str(tmp_path / "missing.pcm"))
    # as its docstring says: --input goes to a source that declares it reads files
    out = tmp_path / "cli.jsonl"
    args = ["-q", "--plugins-dir", str(folder), "run", "-o", "source.name=raw"]
    args += ["--input", str(path), "-o", "transcriber.enabled=false", "-o", "text.enabled=false"]
    result = run_cli(*args, "--sink", f"jsonl:{out}", timeout=120)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["id"] for e in events if e["type"] == "utterance"] == [1, 2]
    assert {e["stream"] for e in events} == {"two.pcm"}


def check_fixed_segmenter(plugin, tmp_path):
    folder, module = plugin("fixed_segmenter")
    run = run_pipeline(
        plugins_dir=folder,
        segmenter="fixed",
        options={"segmenter": {"seconds": 1.0}},
        samples=tone(3.5),
    )
    assert [(u.start, u.end) for u in run.utterances] == [(0, 1), (1, 2), (2, 3), (3, 3.5)]
    with pytest.raises(ConfigError, match=r"segmenter\.seconds"):
        module.FixedSegmenter(0.1)


def check_duration_transcriber(plugin, tmp_path):
    folder, _ = plugin("duration_transcriber")
    run = run_pipeline(plugins_dir=folder, transcriber="duration", samples=utterances(1.0, 2.0))
    assert [u.text for u in run.utterances] == ["1.5 seconds of speech", "2.5 seconds of speech"]
    assert all(u.language is None for u in run.utterances)


def check_lexicon_text(plugin, tmp_path):
    folder, module = plugin("lexicon_text")
    [alone] = run_stage("text", module.LexiconText(), ["I am so glad you came."])
    assert alone.label == "joy" and abs(sum(alone.scores.values()) - 1) < 1e-9
    words = FixedTranscriber(["I am so happy.", "I hate this. Stop it!", "It rained."])
    run = run_pipeline(plugins_dir=folder, transcriber=words, text="lexicon")
    assert [u.text_emotion.label for u in run.utterances] == ["joy", "anger", "neutral"]
    assert [s.label for s in run.utterances[1].text_emotion.sentences] == ["anger", "anger"]
    mine = run_stage("text", module.LexiconText(words={"rained": "sadness"}), ["It rained."])
    assert mine[0].label == "sadness"


def check_pitch_audio(plugin, tmp_path):
    folder, module = plugin("pitch_audio")
    talk = np.concatenate(
        [
            silence(0.8),
            speechlike(1.5, pitch=300),
            silence(0.8),
            speechlike(1.5, pitch=110),
            silence(0.8),
        ]
    )
    run = run_pipeline(plugins_dir=folder, audio="pitch", samples=talk)
    assert [u.audio_emotion.label for u in run.utterances] == ["excited", "calm"]
    assert run.partials and all(p.audio_emotion.model == "pitch" for p in run.partials)
    assert module.PitchAnalyser().analyse(silence(1.0)).windows == 0


def check_confident_fuser(plugin, tmp_path):
    folder, module = plugin("confident_fuser")
    sure_voice = make_audio_emotion("anger", score=0.9)
    unsure_text = make_text_emotion(label="joy", score=0.3)
    [emotion] = run_stage("fuser", module.ConfidentFuser(), [(unsure_text, sure_voice)])
    assert (emotion.label, emotion.sources) == ("anger", ["audio"])
    mapped = module.ConfidentFuser({"joy": "happy", "fear": "happy"})
    [emotion] = run_stage("fuser", mapped, [(None, make_audio_emotion("joy", score=0.5))])
    assert emotion.label == "happy" and emotion.scores["happy"] > 0.5  # joy and fear summed
    run = run_pipeline(plugins_dir=folder, fuser="confident")
    assert all(u.emotion.method == "confident" for u in run.utterances)
    assert run_stage("fuser", module.ConfidentFuser(), [(None, None)]) == [None]


def check_label_summary(plugin, tmp_path, monkeypatch):
    folder, _ = plugin("label_summary")
    out = tmp_path / "moods.jsonl"
    monkeypatch.setenv("LABEL_SUMMARY", str(out))
    run_pipeline(plugins_dir=folder)
    run_pipeline(plugins_dir=folder, text=False)  # the voice alone: the fake's labels
    first, second = (json.loads(line) for line in out.read_text().splitlines())
    assert first["labels"] == {"joy": 3} and first["counters"]["utterances"] == 3
    assert first["stream"] == "test" and sum(second["labels"].values()) == 3


CHECKS = {
    "csv_sink": check_csv_sink,
    "raw_source": check_raw_source,
    "fixed_segmenter": check_fixed_segmenter,
    "duration_transcriber": check_duration_transcriber,
    "lexicon_text": check_lexicon_text,
    "pitch_audio": check_pitch_audio,
    "confident_fuser": check_confident_fuser,
    "label_summary": check_label_summary,
}


def test_every_example_has_a_check_and_every_check_an_example():
    assert set(examples()) == set(CHECKS)


def test_every_stage_kind_has_a_page_with_a_worked_example():
    pages = {page for page, _ in examples().values()}
    assert {f"{kind}.md" for kind in KINDS} | {"hooks.md"} <= pages


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_example_runs_as_its_page_says(name, plugin, tmp_path, monkeypatch):
    check = CHECKS[name]
    if "monkeypatch" in check.__code__.co_varnames[: check.__code__.co_argcount]:
        check(plugin, tmp_path, monkeypatch)
    else:
        check(plugin, tmp_path)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_example_uses_only_the_public_module(name):
    tree = ast.parse(examples()[name][1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streamemo"):
            assert node.module == "streamemo.api", f"{name} imports from {node.module}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.startswith("streamemo"), f"{name} imports {alias.name}"


def test_relative_links_on_the_pages_lead_to_files():
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\((?!https?:|#)([^)#]+)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_public_module_exports_what_the_pages_use():
    import streamemo.api

    names = set(
        re.findall(r"streamemo\.api\.(\w+)", "".join(p.read_text() for p in DOCS.glob("*.md")))
    )
    assert names <= set(streamemo.api.__all__), names - set(streamemo.api.__all__)
    assert all(hasattr(streamemo.api, name) for name in streamemo.api.__all__)


def test_the_pages_name_the_contracts_real_audio_type():
    for kind in ("transcriber", "audio", "source", "segmenter"):
        text = (DOCS / f"{kind}.md").read_text()
        assert "`int16`" in text, kind  # the old docs said float32: wrong
    assert Path(DOCS / "index.md").read_text().count("streamemo.testing") >= 2
