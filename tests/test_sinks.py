"""The built-in sinks and the example plugin in plugins/."""

import io
import json
import re
import subprocess
import sys
import threading
import time

from streamemo.default_plugins.console import ConsoleSink
from streamemo.default_plugins.jsonl_sink import JsonlSink
from streamemo.events import AudioEmotion, Emotion, StatusEvent, UtteranceEvent
from streamemo.sink_runner import SinkRunner
from tests.conftest import REPO, offline_run_args, run_cli, shared


def _event(i: int = 1, label: str = "anger") -> UtteranceEvent:
    return UtteranceEvent(
        stream="mic",
        id=i,
        start=1.0,
        end=2.5,
        text="Leave me alone.",
        language="en",
        text_emotion=None,
        audio_emotion=AudioEmotion({"ANGRY": 0.7, "SAD": 0.3}, 1, "a"),
        emotion=Emotion(label, 0.7, {label: 0.7, "joy": 0.3}, ["audio"], "weighted"),
        latency_ms=500.0,
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_jsonl_is_flushed_per_event_and_appends(tmp_path):
    path = tmp_path / "deep" / "events.jsonl"
    path.parent.mkdir()
    path.write_text('{"old": true}\n')
    sink = JsonlSink(target=str(path))
    sink.write(_event(1))
    # readable before close: a crash later loses nothing already written
    assert json.loads(path.read_text().splitlines()[1])["id"] == 1
    sink.write(StatusEvent("mic", "stopped"))
    sink.close()
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"old": True} and len(lines) == 3
    assert JsonlSink(target=str(path)).event_types == frozenset({"utterance", "status"})
    assert JsonlSink(target=str(path), partials=True).event_types is None


def test_console_colours_only_on_a_terminal():
    plain, tty = io.StringIO(), _Terminal()
    ConsoleSink(stream=plain).write(_event())
    ConsoleSink(stream=tty, live=False).write(_event())
    assert (
        plain.getvalue() == '[   1.00 →    2.50]  anger 0.70  voice ANGRY 0.70  "Leave me alone."\n'
    )
    assert "\033[31manger 0.70\033[0m" in tty.getvalue()
    never = _Terminal()
    ConsoleSink(stream=never, color="never", live=False).write(_event())
    assert "\033[" not in never.getvalue()


def test_example_diary_plugin_writes_a_markdown_diary(tmp_path):
    diary = tmp_path / "diary.md"
    result = run_cli(
        *_diary_args("--sink", f"markdown-diary:{diary}", plugins=str(REPO / "plugins"))
    )
    assert result.returncode == 0, result.stderr
    lines = diary.read_text().splitlines()
    assert len(lines) == 10
    assert lines[5].startswith("- ") and "puppy" in lines[5] and "**" in lines[5]


# -- a sink that fails, hangs or lags: bounded, named, counted, exit 1 ------------------

FAULTS = REPO / "tests" / "fault_plugins"


class _Stuck:
    """Fault stand-in: a sink whose write never returns."""

    event_types = None

    def __init__(self):
        self.release = threading.Event()

    def write(self, event):
        self.release.wait()

    def close(self):
        pass


def test_closing_a_stuck_sink_with_a_full_queue_is_bounded():
    stuck, errors = _Stuck(), []
    runner = SinkRunner(stuck, "stuck", lambda spec, message: errors.append(message), maxsize=2)
    runner.start()
    for i in range(6):  # one taken into the stuck write, two queued, three dropped
        runner.offer(_event(i))
        time.sleep(0.05)
    closing = threading.Thread(target=lambda: result.append(runner.close(0.5)), daemon=True)
    result: list[bool] = []
    started = time.monotonic()
    closing.start()
    closing.join(5)  # the old runner blocked here for ever, on a put into the full queue
    took = time.monotonic() - started
    stuck.release.set()
    assert result == [False] and 0.5 <= took < 1.5, (result, took)
    assert (runner.dropped, runner.undelivered, runner.written) == (3, 3, 0)
    assert runner.lost == 6 and not errors


class _Exits:
    """A sink whose write calls sys.exit (a fault stand-in: a plugin bug)."""

    event_types = None

    def write(self, event) -> None:
        sys.exit(3)

    def close(self) -> None:
        pass


def test_a_sink_that_exits_or_cannot_report_keeps_its_thread_and_counts_every_event():
    def unreportable(spec: str, message: str) -> None:
        raise BrokenPipeError("stderr is a closed pipe")

    runner = SinkRunner(_Exits(), "exits", unreportable)
    runner.start()
    for i in range(5):
        runner.offer(_event(i))
    assert runner.close(5)  # the thread lived to the end and closed the sink
    assert (runner.failed, runner.lost) == (5, 5)


def _diary_args(*extra: str, plugins: str = FAULTS) -> list[str]:
    """The voice-only diary run with the plugins of ``plugins`` (the fault stand-ins)."""
    return [
        "--plugins-dir",
        plugins,
        *offline_run_args(
            "-o", "text.enabled=false", "--input", str(shared("audio/en/en_diary.wav")), *extra
        ),
    ]


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_stuck_and_a_slow_sink_end_the_run_in_the_drain_time_named(tmp_path):
    ok, slow = tmp_path / "ok.jsonl", tmp_path / "slow.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamemo",
            *_diary_args(
                "-o",
                "pipeline.drain_s=3",
                "-o",
                "sink.slow.delay_s=1.5",
                "-o",
                "sink.jsonl.partials=true",  # every event, as the stuck sink gets
                "--sink",
                f"jsonl:{ok}",
                "--sink",
                "stuck",
                "--sink",
                f"slow:{slow}",
            ),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the healthy sink gets the final status as the drain begins
    deadline = time.monotonic() + 300
    while '"stopped"' not in (ok.read_text() if ok.exists() else ""):
        assert time.monotonic() < deadline and proc.poll() is None, proc.poll()
        time.sleep(0.05)
    stopped_at = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - stopped_at
    print(f"bounded close: exit {took:.2f} s after `stopped` (drain_s 3)")
    assert proc.returncode == 1, stderr
    assert 2.5 < took < 3 + 4, took  # the drain time, plus the exit
    events = _lines(ok)
    stuck = re.findall(r"sink 'stuck' did not finish: (\d+) events not delivered", stderr)
    assert stuck == [str(len(events))], stderr
    offered = sum(e["type"] in ("utterance", "status") for e in events)  # the slow sink's
    late = re.findall(rf"sink 'slow:{re.escape(str(slow))}' did not finish: (\d+) events", stderr)
    assert len(late) == 1 and int(late[0]) > 0, stderr
    # what it wrote plus what it was said not to deliver is every event (one write may
    # have been under way as the run left, and finished)
    assert int(late[0]) + len(_lines(slow)) in (offered, offered + 1)
    assert "Traceback" not in stderr and "sink 'jsonl:" not in stderr


def test_a_full_disk_and_a_raising_sink_say_once_and_count_at_the_end(tmp_path):
    ok = tmp_path / "ok.jsonl"
    result = run_cli(
        *_diary_args("--sink", f"jsonl:{ok}", "--sink", "jsonl:/dev/full", "--sink", "raising")
    )
    assert result.returncode == 1, result.stderr
    offered = len(_lines(ok))
    assert sum(e["type"] == "utterance" for e in _lines(ok)) == 10  # the others are whole
    full = [line for line in result.stderr.splitlines() if "sink 'jsonl:/dev/full'" in line]
    assert full == [
        "streamemo: sink 'jsonl:/dev/full' failed: OSError: [Errno 28] No space left on device"
        " (further failures are counted)",
        f"streamemo: sink 'jsonl:/dev/full' lost {offered} events ({offered} writes failed)",
    ], result.stderr
    raising = [line for line in result.stderr.splitlines() if "sink 'raising'" in line]
    assert raising == [
        "streamemo: sink 'raising' failed: ValueError: cannot write event 1"
        " (further failures are counted)",
        f"streamemo: sink 'raising' lost {offered} events ({offered} writes failed)",
    ], result.stderr


def test_a_raising_observer_says_once_and_counts_at_the_end(tmp_path):
    out = tmp_path / "out.jsonl"
    args = _diary_args("-o", "sink.jsonl.partials=true", "--sink", f"jsonl:{out}")
    args[1] = str(FAULTS / "observer")
    result = run_cli(*args)
    assert result.returncode == 1, result.stderr
    events = _lines(out)
    assert sum(e["type"] == "utterance" for e in events) == 10  # the sinks still got all
    lines = [line for line in result.stderr.splitlines() if "observer" in line]
    assert lines == [
        "streamemo: streamemo_event observer 'observer/raising_observer.py' failed:"
        " ValueError: cannot take utterance 1 (further failures are counted)",
        "streamemo: streamemo_event observer 'observer/raising_observer.py' failed on 10 of"
        f" {len(events)} events",
    ], result.stderr
