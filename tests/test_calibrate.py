"""``streamemo calibrate`` from files: the real command in a child process, real speech
(the shared neutral clips, espeak-ng), the real VAD and MFCC code; its baseline used by
``run`` (voice only: no transcriber, so no Whisper)."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli, shared
from tests.espeak import MONOLOGUE, speak

GAP = np.zeros(int(0.8 * 16000), np.int16)
VOICE_ONLY = ["-o", "transcriber.enabled=false"]


def _wav(path: Path, samples: np.ndarray) -> Path:
    import soundfile

    soundfile.write(path, samples, 16000, subtype="PCM_16")
    return path


def neutral_clips() -> list[Path]:
    clips = sorted(shared("audio/en/utterances").glob("en_*_neutral.wav"))
    assert len(clips) == 7, clips
    return clips


@pytest.fixture(scope="module")
def neutral(tmp_path_factory) -> np.ndarray:
    """The seven shared neutral sentences, 0.8 s apart: 18 s of speech in 27 s."""
    from streamemo.audio_io import read_all

    return np.concatenate([part for clip in neutral_clips() for part in (read_all(clip), GAP)])


@pytest.fixture(scope="module")
def neutral_wav(neutral, tmp_path_factory) -> Path:
    return _wav(tmp_path_factory.mktemp("neutral") / "neutral.wav", neutral)


def _env(home: Path) -> dict[str, str]:
    return {"XDG_DATA_HOME": str(home)}


def _calibrate(home: Path, *args: str):
    return run_cli("calibrate", *args, env=_env(home), timeout=120)


def expected_baseline(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The seed's recipe computed here, step by step: the segmenter's utterances, the
    MFCC of each, every 100-frame window at hop 50 (and one flush with the end), the
    mean of each window, then the mean and std of those means; and the speech seconds."""
    from streamemo.default_plugins.vad_segmenter import VadSegmenter
    from streamemo.default_plugins.voice_emotion.mfcc import mfcc
    from streamemo.frames import Block, Utterance

    segmenter = VadSegmenter(partial_hop_s=0)  # default.toml's [segmenter] is its defaults
    items = [*segmenter.feed(Block(samples, 0.0)), *segmenter.flush()]
    utterances = [u for u in items if isinstance(u, Utterance)]
    means = []
    for u in utterances:
        frames = mfcc(u.audio)
        last = max(0, len(frames) - 100)
        starts = sorted({*range(0, last + 1, 50), last})
        means += [frames[s : s + 100].astype(np.float64).mean(axis=0) for s in starts]
    means = np.array(means)
    speech_s = sum(u.end - u.start for u in utterances) / 16000
    return means.mean(axis=0), means.std(axis=0), speech_s


def test_a_baseline_from_a_file_is_the_seeds_recipe_over_the_speech(neutral, neutral_wav, tmp_path):
    result = _calibrate(tmp_path, "--input", str(neutral_wav))
    assert result.returncode == 0, result.stderr
    path = tmp_path / "streamemo" / "baseline.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a measurement of a person
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    mean, std, speech_s = expected_baseline(neutral)
    assert len(data["mean"]) == len(data["std"]) == 13
    np.testing.assert_allclose(data["mean"], mean, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(data["std"], std, rtol=1e-5, atol=1e-4)
    # the spread of window means, as the seed's presets: far below the frames' own spread
    from streamemo.default_plugins.voice_emotion.mfcc import mfcc

    assert data["std"][0] < mfcc(neutral).std(axis=0)[0] / 3
    lines = result.stdout.splitlines()
    found = re.match(
        r"speech ([\d.]+) s in ([\d.]+) s \(7 utterances\), level (-[\d.]+) dBFS", lines[0]
    )
    assert found, lines
    assert float(found[1]) == pytest.approx(speech_s, abs=0.051)  # printed to 0.1
    assert float(found[2]) == pytest.approx(len(neutral) / 16000, abs=0.05)
    assert -30 < float(found[3]) < -10  # espeak-ng speaks at about -21 dBFS
    assert lines[1] == f"baseline over {data['windows']} windows written to {path}"
    assert lines[2].startswith("use it: streamemo run -o audio.baseline=personal")


def test_seconds_takes_the_start_of_a_file_and_a_name_stores_it_apart(tmp_path):
    words = speak(MONOLOGUE, tmp_path / "monologue.wav")  # 59 s of espeak-ng without a pause
    result = _calibrate(
        tmp_path, "--input", str(tmp_path / "monologue.wav"), "--seconds", "15", "--name", "ann"
    )
    assert result.returncode == 0, result.stderr
    assert " in 15.0 s " in result.stdout.splitlines()[0]
    path = tmp_path / "streamemo" / "baselines" / "ann.json"
    assert not (tmp_path / "streamemo" / "baseline.json").exists()
    mean, std, _ = expected_baseline(words[: 15 * 16000])
    data = json.loads(path.read_text())
    np.testing.assert_allclose(data["mean"], mean, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(data["std"], std, rtol=1e-5, atol=1e-4)
    assert '-o audio.baseline=ann (a serve client: "baseline": "ann"' in result.stdout


def _bad_inputs(neutral: np.ndarray) -> dict[str, tuple[np.ndarray, str, str]]:
    """Each case: its samples, the problem and the fix its line must name."""
    loud = np.clip(neutral.astype(np.int32) * 8, -32768, 32767).astype(np.int16)
    hiss = np.random.default_rng(1).normal(0, 30, 20 * 16000).astype(np.int16)
    nothing = "no speech found in {input} (20.0 s)"
    return {
        "short": (neutral[: 4 * 16000], "too little speech in {input}: 3.", "a longer one"),
        "silence": (np.zeros(20 * 16000, np.int16), nothing, "give a recording of your calm"),
        "hiss": (hiss, nothing, "give a recording of your calm"),
        "clipped": (loud, "{input} is clipped: ", "turn the input gain down"),
        "quiet": ((neutral * 0.05).astype(np.int16), "{input} is too quiet: ", "gain up"),
    }


@pytest.mark.parametrize("case", ["short", "silence", "hiss", "clipped", "quiet"])
def test_unusable_speech_is_one_line_and_writes_nothing(case, neutral, tmp_path):
    samples, problem, fix = _bad_inputs(neutral)[case]
    wav = _wav(tmp_path / f"{case}.wav", samples)
    result = _calibrate(tmp_path / "data", "--input", str(wav))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("streamemo: error: ") and problem.format(input=wav) in line, line
    assert fix in line, line
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing written, not even the folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "/no/such.wav"], "input file '/no/such.wav' not found"),
        (["--out", "{tmp}/notes.txt/b.json"], "'{tmp}/notes.txt' is a file, not a folder"),
        (["--out", "{tmp}"], "is a folder: give a file name"),
        (["--name", "../x"], "--name '../x': 1-64 letters, digits"),
        (["--name", "male"], "and not male, female, personal"),
        (["--name", "a", "--out", "b.json"], "--out and --name both say where"),
        (["--seconds", "0"], "--seconds must be a number of seconds above 0"),
    ],
)
def test_bad_arguments_are_one_line_before_anything_is_recorded(args, message, tmp_path):
    (tmp_path / "notes.txt").write_text("not a folder\n")
    args, message = [a.format(tmp=tmp_path) for a in args], message.format(tmp=tmp_path)
    result = _calibrate(tmp_path / "data", *args)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("streamemo: error: ") and message in line, line
    assert not (tmp_path / "data").exists()


# -- the baseline in use -----------------------------------------------------------------
@pytest.fixture(scope="module")
def calibrated(neutral_wav, tmp_path_factory) -> Path:
    """A data folder holding the neutral clips' personal baseline."""
    home = tmp_path_factory.mktemp("home")
    result = _calibrate(home, "--input", str(neutral_wav))
    assert result.returncode == 0, result.stderr
    return home


def voice_scores(home: Path, clip: Path, *options: str) -> list[dict[str, float]]:
    """The voice scores of each utterance of ``clip`` from ``run`` (voice only)."""
    out = home / "run.jsonl"
    out.unlink(missing_ok=True)
    result = run_cli(
        "-q", "run", "--input", str(clip), *VOICE_ONLY, *options, "--sink", f"jsonl:{out}",
        env=_env(home), timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    return [e["audio_emotion"]["scores"] for e in events if e["type"] == "utterance"]


def test_run_with_the_personal_baseline_uses_the_stored_file(calibrated):
    diary = shared("audio/en/en_diary.wav")
    personal = voice_scores(calibrated, diary, "-o", "audio.baseline=personal")
    path = calibrated / "streamemo" / "baseline.json"
    assert len(personal) == 10
    assert personal == voice_scores(calibrated, diary, "-o", f"audio.baseline={path}")
    male = voice_scores(calibrated, diary, "-o", "audio.baseline=male")
    assert len(male) == 10
    differ = [abs(p["HAPPY"] - m["HAPPY"]) > 1e-3 for p, m in zip(personal, male, strict=True)]
    assert all(differ), (personal, male)


def test_personal_before_any_calibration_says_to_calibrate(tmp_path):
    clip = shared("audio/en/utterances/en_00_joy.wav")
    result = run_cli(
        "run", "--input", str(clip), *VOICE_ONLY, "-o", "audio.baseline=personal",
        env=_env(tmp_path), timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == (
        "streamemo: error: audio.baseline=personal: no personal baseline at "
        f"'{tmp_path}/streamemo/baseline.json': run streamemo calibrate first"
    )
