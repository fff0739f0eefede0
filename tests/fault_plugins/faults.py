"""Fault stand-ins (see README.md): loaded with --plugins-dir by the tests."""

import threading
import time
from pathlib import Path

import streamemo
from streamemo.default_plugins.offline_text import OfflineTextEmotion
from streamemo.default_plugins.voice_emotion import VoiceEmotion
from streamemo.default_plugins.whisper import WhisperTranscriber
from streamemo.events import event_to_json


class BrokenSink:
    """A sink whose every write fails, like a full disk."""

    event_types = None

    def __init__(self, target=None):
        pass

    def write(self, event):
        raise OSError("No space left on device")

    def close(self):
        pass


class RaisingSink:
    """A sink with a bug: every write raises, each time with a different message."""

    event_types = frozenset({"utterance", "status"})  # as the jsonl sink's

    def __init__(self, target=None):
        self.writes = 0

    def write(self, event):
        self.writes += 1
        raise ValueError(f"cannot write event {self.writes}")

    def close(self):
        pass


class StuckSink:
    """A sink whose ``write`` never returns, like a network share that hangs."""

    event_types = None

    def __init__(self, target=None):
        self._never = threading.Event()

    def write(self, event):
        self._never.wait()

    def close(self):
        pass


class SlowSink:
    """A sink that takes ``delay_s`` per event (a slow disk or remote store), then
    appends the event as a JSON line to ``target``: the file says what it got."""

    event_types = frozenset({"utterance", "status"})

    def __init__(self, target=None, delay_s: float = 1.0):
        self.path = Path(target)
        self.delay_s = delay_s

    def write(self, event):
        time.sleep(self.delay_s)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(event_to_json(event) + "\n")

    def close(self):
        pass


class UnstartableSink:
    """A sink whose factory raises, like a device or service that will not start (its
    options are valid, so only building it can fail)."""

    event_types = None

    def __init__(self, target=None):
        raise RuntimeError("simulated sink that cannot start")

    def write(self, event):
        pass

    def close(self):
        pass


class FlakyVoice(VoiceEmotion):
    """The real voice model, except that it fails on the second utterance it is given,
    alone or in a batch (a batch holding it fails as a whole)."""

    def __init__(self, **options):
        super().__init__(**options)
        self.order: dict[bytes, int] = {}  # utterance audio -> the order it first came in

    def _check(self, audios):
        for audio in audios:
            self.order.setdefault(audio.tobytes(), len(self.order) + 1)
        if any(self.order[audio.tobytes()] == 2 for audio in audios):
            raise RuntimeError("simulated model failure")

    def analyse(self, audio):
        self._check([audio])
        return super().analyse(audio)

    def analyse_many(self, audios):
        self._check(audios)
        return super().analyse_many(audios)


class SlowWhisper(WhisperTranscriber):
    """The real transcriber, slowed down: analysis falls far behind the source."""

    def transcribe(self, audio):
        time.sleep(1.0)
        return super().transcribe(audio)

    def transcribe_many(self, audios):
        time.sleep(1.0 * len(audios))
        return super().transcribe_many(audios)


class SlowLoadingText(OfflineTextEmotion):
    """The real offline-en analyser behind a slow disk: loading takes ``load_s`` more;
    ``fail``: then the load fails, like a corrupt model file."""

    def __init__(self, load_s: float = 3.0, fail: bool = False, **options):
        time.sleep(load_s)
        if fail:
            raise OSError("simulated corrupt model file")
        super().__init__(**options)
        self.loaded_at = time.monotonic()


class TimedWhisper(WhisperTranscriber):
    """The real transcriber, noting when each of its calls returned."""

    def __init__(self, **options):
        super().__init__(**options)
        self.done_at: list[float] = []

    def transcribe(self, audio):
        result = super().transcribe(audio)
        self.done_at.append(time.monotonic())
        return result

    def transcribe_many(self, audios):
        results = super().transcribe_many(audios)
        self.done_at.append(time.monotonic())
        return results


@streamemo.hookimpl
def register_text_analysers(register):
    register("slow-loading-text", SlowLoadingText)


@streamemo.hookimpl
def register_sinks(register):
    register("broken", BrokenSink)
    register("unstartable", UnstartableSink)
    register("raising", RaisingSink)
    register("stuck", StuckSink)
    register("slow", SlowSink)


@streamemo.hookimpl
def register_audio_analysers(register):
    register("flaky-voice", FlakyVoice)


@streamemo.hookimpl
def register_transcribers(register):
    register("slow-whisper", SlowWhisper)
    register("timed-whisper", TimedWhisper)
