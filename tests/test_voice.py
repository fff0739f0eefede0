"""The seed's voice model, defined here, against the seed's own reference outputs."""

import json

import numpy as np
import pytest
import soundfile
import torch

from streamemo.audio_io import read_all, to_float32
from streamemo.default_plugins.voice_emotion import VoiceEmotion
from streamemo.errors import ConfigError
from streamemo.voice_model import WINDOW_FRAMES, mfcc, window_starts, windows
from tests.conftest import shared


@pytest.fixture(scope="module")
def expected():
    return json.loads(shared("models/todai-audio-v1/expected.json").read_text())


@pytest.mark.parametrize("baseline", ["male", "female"])
def test_first_window_logits_match_the_seed(audio_model_dir, expected, baseline):
    voice = VoiceEmotion(model=str(audio_model_dir), baseline=baseline)
    audio, rate = soundfile.read(shared("audio/ko_diary_16k.wav"), dtype="float32")
    assert rate == 16000
    logits = voice.window_logits(audio)
    want = np.array(expected["ko_diary_16k.wav"][f"{baseline}_logits"])
    np.testing.assert_allclose(logits[0], want, atol=1e-4)
    # the pipeline's own path (int16 frames from the file source) gives the same numbers
    np.testing.assert_allclose(
        voice.window_logits(read_all(shared("audio/ko_diary_16k.wav")))[0], want, atol=1e-4
    )


def test_48k_file_through_the_pipeline_resampler_matches_the_seed(voice, expected):
    audio = read_all(shared("audio/ko_diary_48k.wav"))  # soxr HQ, as librosa.load
    logits = voice.window_logits(audio)[:1]
    probs = np.exp(logits) / np.exp(logits).sum()
    want = expected["ko_diary_48k.wav"]["male"]
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
