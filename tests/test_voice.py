"""The seed's voice model, defined here, against the seed's own reference outputs."""

import json

import numpy as np
import pytest
import soundfile
import torch

from streamemo.audio_io import read_all, to_float32
from streamemo.default_plugins.voice_emotion import BUNDLED, VoiceEmotion
from streamemo.default_plugins.voice_emotion.model import (
    WINDOW_FRAMES,
    mfcc,
    mfcc_many,
    window_starts,
    windows,
)
from streamemo.errors import ConfigError
from tests.conftest import shared


@pytest.fixture(scope="module")
def expected():
    return json.loads(shared("models/todai-audio-v1/expected.json").read_text())


@pytest.fixture(params=["bundled", "shared"])
def model_spec(request, audio_model_dir) -> str:
    """The weights shipped in the package (the default) and the seed's shared copy."""
    return BUNDLED if request.param == "bundled" else str(audio_model_dir)


@pytest.mark.parametrize("baseline", ["male", "female"])
def test_first_window_logits_match_the_seed(model_spec, expected, baseline):
    voice = VoiceEmotion(model=model_spec, baseline=baseline)
    audio, rate = soundfile.read(shared("audio/ko_diary_16k.wav"), dtype="float32")
    assert rate == 16000
    logits = voice.window_logits(audio)
    want = np.array(expected["ko_diary_16k.wav"][f"{baseline}_logits"])
    np.testing.assert_allclose(logits[0], want, atol=1e-4)
    # the pipeline's own path (int16 frames from the file source) gives the same numbers
    np.testing.assert_allclose(
        voice.window_logits(read_all(shared("audio/ko_diary_16k.wav")))[0], want, atol=1e-4
    )


@pytest.mark.parametrize("baseline", ["male", "female"])
def test_48k_file_through_the_pipeline_resampler_matches_the_seed(model_spec, expected, baseline):
    voice = VoiceEmotion(model=model_spec, baseline=baseline)
    audio = read_all(shared("audio/ko_diary_48k.wav"))  # soxr HQ, as librosa.load
    logits = voice.window_logits(audio)[:1]
    probs = np.exp(logits) / np.exp(logits).sum()
    want = expected["ko_diary_48k.wav"][baseline]
    np.testing.assert_allclose(probs[0], [want[k] for k in voice.labels], atol=1e-3)


def test_labels_come_from_the_checkpoint(voice, audio_model_dir):
    assert voice.labels == json.loads((audio_model_dir / "labels.json").read_text())


def test_every_window_of_a_long_utterance_is_analysed_in_one_batch(voice):
    audio = read_all(shared("audio/en/en_long.wav"))[: 16000 * 12]  # 12 s: 376 frames
    frames = 1 + len(audio) // 512
    starts = window_starts(frames, voice.hop)
    assert starts[0] == 0 and starts[-1] == frames - WINDOW_FRAMES  # the end is covered
    batched = voice.window_logits(audio)
    assert len(batched) == len(starts)
    # batching changes nothing: each window through the network alone gives the same logits
    feats = (windows(mfcc(to_float32(audio)), voice.hop) - voice.mean) / voice.scale
    with torch.inference_mode():
        for i in (0, len(starts) // 2, len(starts) - 1):
            x = torch.from_numpy(feats[i : i + 1].transpose(0, 2, 1).astype(np.float32))
            np.testing.assert_allclose(batched[i], voice.net(x)[0].numpy(), atol=1e-5)
    emotion = voice.analyse(audio)
    assert emotion.windows == len(starts)
    assert sum(emotion.scores.values()) == pytest.approx(1.0, abs=1e-5)


def test_short_utterance_is_zero_padded_to_one_window(voice):
    emotion = voice.analyse(np.zeros(8000, np.int16))
    assert emotion.windows == 1


def test_latest_window_is_the_last_100_frames(voice):
    audio = read_all(shared("audio/en/en_long.wav"))[: 16000 * 8]
    latest = voice.analyse_latest(audio)
    tail_only = voice.analyse(audio[-(WINDOW_FRAMES * 512) :])
    assert latest.windows == 1
    assert latest.scores == pytest.approx(tail_only.scores, abs=0.02)


def test_personal_baseline_file(tmp_path, audio_model_dir):
    baseline = tmp_path / "me.json"
    baseline.write_text(json.dumps({"mean": [0.0] * 13, "std": [1.0] * 13}))
    mine = VoiceEmotion(model=str(audio_model_dir), baseline=str(baseline))
    male = VoiceEmotion(model=str(audio_model_dir), baseline="male")
    audio = read_all(shared("audio/ko_diary_16k.wav"))
    assert not np.allclose(mine.window_logits(audio), male.window_logits(audio))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"baseline": "robot"}, "neither male, female nor a file"),
        ({"hop_frames": 0}, "hop_frames must be 1-100"),
    ],
)
def test_bad_options_are_one_line(audio_model_dir, options, message):
    with pytest.raises(ConfigError, match=message):
        VoiceEmotion(model=str(audio_model_dir), **options)


@pytest.fixture(scope="module")
def speech():
    """Real speech of different lengths: 1.5 s (< 100 frames), 2.7 s, 12 s, 150 hops
    exactly, one sample, and nothing."""
    audio = read_all(shared("audio/en/en_long.wav"))
    return [
        audio[16000 * 20 : 16000 * 20 + 24000],
        read_all(shared("audio/en/utterances/en_46_neutral.wav")),
        audio[16000 * 40 : 16000 * 52],
        audio[16000 * 60 : 16000 * 60 + 512 * 150],
        audio[16000 * 70 : 16000 * 70 + 1],
        audio[:0],
    ]


def test_fast_mfcc_equals_librosa(speech):
    import librosa

    for audio in speech:
        want = librosa.feature.mfcc(y=to_float32(audio), sr=16000, n_mfcc=13).T
        got = mfcc(audio)
        assert got.shape == want.shape and got.dtype == np.float32
        # float32 rounding: librosa's own FFT-based DCT and float64 STFT against our matrix
        # DCT and float32 FFT differ by up to ~15 float32 steps of the largest coefficient
        # (c0, a sum of 128 dB values; measured 1.7e-6 relative on 49 utterances)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_fast_mfcc_tables_are_librosas():
    import librosa
    import scipy.fft

    from streamemo.default_plugins.voice_emotion import mfcc as fast

    # the filterbank is bit-identical: the weights were trained on exactly these features
    np.testing.assert_array_equal(fast.mel_filterbank(), librosa.filters.mel(sr=16000, n_fft=2048))
    dct = scipy.fft.dct(np.eye(128), type=2, norm="ortho", axis=0)[:13]
    np.testing.assert_allclose(fast.dct_matrix(), dct, atol=1e-7)
    window = librosa.filters.get_window("hann", 2048, fftbins=True)
    np.testing.assert_allclose(fast.tables().window.numpy(), window, atol=1e-7)


def test_mfcc_of_many_utterances_is_each_ones_mfcc(speech):
    together = mfcc_many(speech)
    assert len(together) == len(speech)
    for audio, got in zip(speech, together, strict=True):
        # bit for bit, not "close": a batch runs each utterance through the same kernels on
        # the same shapes as a call for it alone (kernels for other batch sizes round
        # differently on AVX-512), and no frame leaks into its neighbour
        np.testing.assert_array_equal(got, mfcc(audio))
    # int16 is scaled exactly as to_float32
    np.testing.assert_array_equal(mfcc(speech[0]), mfcc(to_float32(speech[0])))
    assert mfcc_many([]) == []
    with pytest.raises(ValueError, match="mono"):
        mfcc(np.zeros((2, 16000), np.float32))


def test_analyse_many_equals_analyse_on_each(voice, speech):
    many = voice.analyse_many(speech)
    assert len(many) == len(speech)
    for audio, got in zip(speech, many, strict=True):
        want = voice.analyse(audio)
        assert got.windows == want.windows
        assert got.scores == pytest.approx(want.scores, abs=1e-5)
    assert [e.windows for e in many] == [1, 1, 7, 3, 1, 1]
    # the live estimate is the last window alone, whatever came before it
    latest = voice.analyse_latest(speech[2])
    last = voice.window_logits(speech[2])[-1:]  # hop 50 ends on the same flush window
    assert latest.windows == 1
    assert latest.scores == pytest.approx(voice._emotion(last).scores, abs=1e-5)


def test_analyse_many_of_nothing_is_nothing(voice):
    assert voice.analyse_many([]) == []


def test_empty_utterance_is_one_silent_window(voice):
    # as librosa: no samples still make one (all-padding) frame, zero-padded to a window
    empty = voice.analyse(np.zeros(0, np.int16))
    assert empty.windows == 1
    assert sum(empty.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert empty.scores == pytest.approx(voice.analyse(np.zeros(100, np.int16)).scores, abs=1e-6)
