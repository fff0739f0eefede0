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


@streamemo.hookimpl
def register_sinks(register):
    register("broken", BrokenSink)


@streamemo.hookimpl
def register_audio_analysers(register):
    register("flaky-voice", FlakyVoice)


@streamemo.hookimpl
def register_transcribers(register):
    register("slow-whisper", SlowWhisper)
