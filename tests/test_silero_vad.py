"""The silero segmenter: Silero VAD's bundled ONNX model (onnxruntime, CPU) under the
same utterance logic as webrtcvad, on real speech with known boundaries."""

import itertools
import json
import time

import numpy as np
import pytest

from streamemo.audio_io import read_all
from streamemo.default_plugins.vad_segmenter import SileroSegmenter, VadSegmenter
from streamemo.default_plugins.vad_segmenter.silero import CHUNK, SileroDetector
from streamemo.errors import ConfigError
from streamemo.frames import SAMPLE_RATE, Block, Partial, Utterance
from tests.conftest import run_cli, shared


def segment(audio: np.ndarray, block: int = 480, cls=SileroSegmenter, **options) -> list:
    seg = cls(**options)
    out: list[Utterance | Partial] = []
    for i in range(0, len(audio), block):  # blocks that are not 512: the frame buffering
        out.extend(seg.feed(Block(audio[i : i + block], time.monotonic())))
    out.extend(seg.flush())
    return out


def utterances(items: list) -> list[Utterance]:
    return [u for u in items if isinstance(u, Utterance)]


@pytest.fixture(scope="module")
def diary():
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    return read_all(shared("audio/en/en_diary.wav")), truth


@pytest.mark.parametrize("block", [480, 1000, 512])
def test_one_utterance_per_sentence_within_0_3_s(diary, block):
    audio, truth = diary
    found = utterances(segment(audio, block))
    assert len(found) == len(truth)
    for u, t in zip(found, truth, strict=True):
        assert abs(u.start / SAMPLE_RATE - t["start"]) <= 0.3
        assert abs(u.end / SAMPLE_RATE - t["end"]) <= 0.3
        assert len(u.audio) >= u.end - u.start
    assert [u.id for u in found] == list(range(1, len(truth) + 1))
    # the end within a frame or two of where the voice stops, as webrtcvad's (test_segmenter)
    ends = np.array([u.end / SAMPLE_RATE - t["end"] for u, t in zip(found, truth, strict=True)])
    assert np.median(np.abs(ends)) <= 0.03 and np.all(np.abs(ends) <= 0.1), ends


@pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")  # silero_vad's own
def test_the_detector_matches_silero_vads_own_wrapper(diary):
    # the chunk, its 64 samples of context and the recurrent state, fed as Silero's own
    # OnnxWrapper (torch) feeds them: the same probabilities, chunk by chunk
    torch = pytest.importorskip("torch")
    from silero_vad import load_silero_vad

    audio = diary[0][: 8 * SAMPLE_RATE]
    reference = load_silero_vad(onnx=True)
    detector = SileroDetector()
    ours, theirs = [], []
    for i in range(0, len(audio) - CHUNK + 1, CHUNK):
        chunk = audio[i : i + CHUNK]
        detector.is_speech(chunk)
        ours.append(detector.probability)
        x = torch.from_numpy(chunk.astype(np.float32) / 32768)
        theirs.append(float(reference(x, SAMPLE_RATE)))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert max(ours) > 0.9 and min(ours) < 0.1  # speech and silence both in there


def test_silence_and_white_noise_are_not_speech():
    rng = np.random.default_rng(0)
    silence = np.zeros(5 * SAMPLE_RATE, np.int16)
    hiss = rng.normal(0, 3000, 10 * SAMPLE_RATE).astype(np.int16)  # -21 dBFS white noise
    assert not segment(silence) and not segment(hiss)
    seg = SileroSegmenter()
    for i in range(0, len(hiss), 480):
        list(seg.feed(Block(hiss[i : i + 480], time.monotonic())))
        assert not seg.speaking
    # where webrtcvad, on the same hiss, calls it an utterance
    assert len(utterances(segment(hiss, cls=VadSegmenter))) == 1


def test_partials_and_cuts_work_as_with_webrtcvad(diary):
    audio, truth = diary
    items = segment(audio, partial_hop_s=1.0, partial_first_s=1.0)
    first = [p for p in items if isinstance(p, Partial) and p.id == 1]
    assert [round((p.end - p.start) / SAMPLE_RATE) for p in first] == [1, 2, 3]
    pieces = utterances(segment(audio, max_utterance_s=1.5))
    first = [u for u in pieces if u.start < truth[0]["end"] * SAMPLE_RATE]
    assert len(first) >= 3
    for a, b in itertools.pairwise(first):
        assert a.cut and a.end == b.start and a.end - a.start <= 1.5 * SAMPLE_RATE


def test_a_higher_threshold_hears_less_speech(diary):
    audio, _truth = diary
    low = utterances(segment(audio, threshold=0.3))
    high = utterances(segment(audio, threshold=0.9))
    assert sum(u.end - u.start for u in high) < sum(u.end - u.start for u in low)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": 0}, "segmenter.threshold must be a speech probability between 0 and 1"),
        ({"threshold": 1.5}, "segmenter.threshold must be a speech probability between 0 and 1"),
        ({"threshold": "0.5"}, "not '0.5'"),
        ({"frame_ms": 30}, "segmenter.frame_ms must be 32 for silero .* leave frame_ms out"),
        ({"end_drop_db": 0}, "end_drop_db must be a number of dB, above 0"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(ConfigError, match=message):
        SileroSegmenter(**options)


def _events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_cli_runs_the_diary_through_silero(diary, tmp_path):
    _audio, truth = diary
    out = tmp_path / "out.jsonl"
    wav = shared("audio/en/en_diary.wav")
    # the default config's [segmenter] holds webrtcvad's aggressiveness: naming another
    # plugin starts from its own defaults
    fast = ("-o", "text.enabled=false", "-o", "audio.enabled=false")
    result = run_cli(
        "run", "--input", str(wav), "--sink", f"jsonl:{out}", "-o", "segmenter.name=silero", *fast
    )
    assert result.returncode == 0, result.stderr
    events = [e for e in _events(out) if e["type"] == "utterance"]
    assert len(events) == len(truth)
    for e, t in zip(events, truth, strict=True):
        assert abs(e["start"] - t["start"]) <= 0.3 and abs(e["end"] - t["end"]) <= 0.3
    assert "thunder" in events[1]["text"].lower()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("segmenter.threshold=2", "segmenter.threshold must be a speech probability between 0"),
        ("segmenter.frame_ms=30", "segmenter.frame_ms must be 32 for silero"),
        ("segmenter.aggressiveness=2", "unknown option(s) aggressiveness for [segmenter]"),
    ],
)
def test_a_bad_option_is_one_line_before_anything_runs(tmp_path, option, message):
    wav = shared("audio/en/en_diary.wav")
    result = run_cli("run", "--input", str(wav), "-o", "segmenter.name=silero", "-o", option)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamemo: error: "), lines
    assert message in lines[0], lines[0]
