"""The command line picks its source through the registry: `--input` goes to any source
that declares `reads_files`, `--device`/`--realtime` only to a source that takes them,
and `streamemo devices` lists every source's `devices()`. Real processes, a third-party
source from --plugins-dir, espeak-ng speech, the segmenter alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import OFFLINE_CONFIG, run_cli
from tests.espeak import speak

NO_MODELS = ["transcriber.enabled=false", "audio.enabled=false", "text.enabled=false"]

# a third-party source that reads files (a WAV, in 100 ms blocks) and lists two devices
READER_PLUGIN = """
from pathlib import Path

from streamemo.api import SAMPLE_RATE, Block, Source, hookimpl
from streamemo.audio_io import read_all


class Reader(Source):
    reads_files = True

    def __init__(self, input: str, realtime: bool = False):
        self.path = Path(input)
        self.name = f"reader:{self.path.name}"
        self.stopped = False

    def blocks(self):
        audio = read_all(self.path)
        for i in range(0, len(audio), SAMPLE_RATE // 10):
            if self.stopped:
                return
            yield Block(audio[i : i + SAMPLE_RATE // 10], 0.0)

    def stop(self):
        self.stopped = True

    @staticmethod
    def devices():
        return [
            {"index": 0, "name": "left", "default": False},
            {"index": 1, "name": "right", "default": True},
        ]


@hookimpl
def register_sources(register):
    register("reader", Reader)
"""


@pytest.fixture(scope="module")
def plugins(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plugins")
    (folder / "reader.py").write_text(READER_PLUGIN)
    return folder


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("speech") / "hello.wav"
    speak("Good morning, the coffee is ready.", path)
    return path


def _run(*args: str, plugins: Path | None = None):
    before = ["--plugins-dir", str(plugins)] if plugins else []
    overrides = [a for k in NO_MODELS for a in ("-o", k)]
    return run_cli(*before, "run", "--config", str(OFFLINE_CONFIG), *overrides, *args, timeout=300)


def _error(result) -> str:
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def test_input_goes_to_a_third_party_source_that_reads_files(plugins, wav, tmp_path):
    out = tmp_path / "out.jsonl"
    result = _run(
        "--input", str(wav), "-o", "source.name=reader", "--sink", f"jsonl:{out}", plugins=plugins
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["stream"] for e in events} == {"reader:hello.wav"}  # not the file source's
    assert sum(e["type"] == "utterance" for e in events) == 1


def test_input_with_two_sources_that_read_files_asks_which(plugins, wav):
    line = _error(_run("--input", str(wav), plugins=plugins))
    assert line == (
        "streamemo: error: --input: several sources read files (file, reader): "
        "choose one with -o source.name=NAME"
    )


def test_device_and_realtime_go_only_to_a_source_that_takes_them(wav):
    line = _error(_run("--input", str(wav), "--device", "3"))
    assert line == "streamemo: error: --device: source 'file' takes no device"
    line = _error(_run("--realtime"))  # the configured source: the built-in default's
    assert line == "streamemo: error: --realtime: source 'mic' takes no realtime"


def test_devices_lists_every_source_that_has_devices(plugins):
    result = run_cli("--plugins-dir", str(plugins), "devices", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = lines.index("source 'reader':")
    assert lines[at + 1 : at + 4] == [
        "  index  name",
        "      0  left",
        "*     1  right",
    ]
    assert "source 'mic':" in lines  # listed too, or one line saying why it cannot be


def test_a_configured_file_source_reads_its_configured_input(wav, tmp_path):
    out = tmp_path / "out.jsonl"
    result = _run("-o", "source.name=file", "-o", f"source.input={wav}", "--sink", f"jsonl:{out}")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["stream"] for e in events} == {"hello.wav"}


def test_a_file_source_with_no_input_gives_way_to_the_default_source():
    # the built-in default (the microphone) takes the device, and says it has none such
    result = _run("-o", "source.name=file", "--device", "no-such-mic")
    assert _error(result) == (
        "streamemo: error: No input device matching 'no-such-mic': "
        "list the devices with `streamemo devices`"
    )
