"""Fault stand-ins (see README.md): loaded with --plugins-dir by the tests."""

import time

import streamemo
from streamemo.default_plugins.voice_emotion import VoiceEmotion
from streamemo.default_plugins.whisper_transcriber import WhisperTranscriber


class BrokenSink:
    """A sink whose every write fails, like a full disk."""

    event_types = None

    def __init__(self, target=None):
        pass

    def write(self, event):
        raise OSError("No space left on device")

    def close(self):
        pass


class FlakyVoice(VoiceEmotion):
    """The real voice model, except that it raises on the second utterance."""

    def __init__(self, **options):
        super().__init__(**options)
        self.calls = 0

    def analyse(self, audio):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("simulated model failure")
        return super().analyse(audio)


class SlowWhisper(WhisperTranscriber):
    """The real transcriber, slowed down: analysis falls far behind the source."""

    def transcribe(self, audio):
        time.sleep(1.0)
        return super().transcribe(audio)


@streamemo.hookimpl
def register_sinks(register):
    register("broken", BrokenSink)


@streamemo.hookimpl
def register_audio_analysers(register):
    register("flaky-voice", FlakyVoice)


@streamemo.hookimpl
def register_transcribers(register):
    register("slow-whisper", SlowWhisper)
