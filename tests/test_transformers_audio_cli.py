"""The ``transformers`` audio analyser as users reach it: ``streamemo run`` with a folder and
with configs/en.toml, a hub id from an offline HF cache, a folder carrying code (never run),
and the one-line errors before anything loads. Tiny checkpoints from tests/tiny_ser.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from streamemo.config import load_config, stage_options
from streamemo.default_plugins.late_fusion.mixing import LateFusion
from streamemo.default_plugins.transformers_audio import TransformersVoiceEmotion
from streamemo.events import AudioEmotion
from streamemo.factory_options import check_options
from tests import tiny_ser
from tests.conftest import REPO, run_cli, shared
from tests.hf_cache import fill_cache

EN = REPO / "configs" / "en.toml"
SEVEN = {"joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_ser.build(tmp_path_factory.mktemp("ser") / "tiny", "wav2vec2")


def _utterances(out: Path) -> list[dict]:
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [e for e in events if e["type"] == "utterance"]


def _check_voice(events: list[dict], labels: list[str], model: str) -> None:
    assert events, "no utterance events"
    for event in events:
        voice = event["audio_emotion"]
        assert list(voice["scores"]) == labels and voice["model"] == model
        assert sum(voice["scores"].values()) == pytest.approx(1.0, abs=1e-5)
        assert voice["windows"] >= 1


def test_run_with_a_folder_and_a_label_map(folder: Path, tmp_path: Path) -> None:
    clip = shared("audio/en/en_diary.wav")
    out = tmp_path / "out.jsonl"
    done = run_cli(
        "-q", "run", "--input", str(clip), "--sink", f"jsonl:{out}",
        "-o", "audio.name=transformers", "-o", f"audio.model={folder}",
        "-o", "transcriber.enabled=false",  # the voice alone: no Whisper needed here
        "-o", 'audio.label_map={neu="neutral", hap="joy", ang="anger", sad="sadness"}',
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    events = _utterances(out)
    _check_voice(events, ["neutral", "joy", "anger", "sadness"], str(folder))
    assert len(events) >= 5  # en_diary holds 10 sentences
    assert all(e["emotion"]["label"] in SEVEN for e in events)


def test_en_toml_runs_a_checkpoint_with_the_default_models_labels(
    folder: Path, tmp_path: Path
) -> None:
    """configs/en.toml's [audio] and audio_map with a checkpoint labelled as its default
    model is (neu hap ang sad): fused labels are the seven, the voice the only side."""
    out = tmp_path / "out.jsonl"
    done = run_cli(
        "-q", "run", "--config", str(EN), "--input", str(shared("audio/en/en_diary.wav")),
        "--sink", f"jsonl:{out}",
        "-o", f"audio.model={folder}", "-o", "transcriber.enabled=false",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    events = _utterances(out)
    _check_voice(events, tiny_ser.SUPERB_LABELS, str(folder))
    assert {e["emotion"]["label"] for e in events} <= SEVEN
    assert all(e["emotion"]["sources"] == ["audio"] for e in events)


def test_en_toml_names_a_valid_voice_setup() -> None:
    config = load_config(EN)
    name, _, options = stage_options(config, "audio")
    assert (name, options["model"]) == ("transformers", "superb/wav2vec2-base-superb-er")
    check_options(TransformersVoiceEmotion, options, "[audio] 'transformers'", key="audio")
    # each of the model's labels goes to one of the seven, and one label decides the fusion
    fuser = LateFusion(**stage_options(config, "fuser")[2])
    targets = ["neutral", "joy", "anger", "sadness"]
    for label, target in zip(tiny_ser.SUPERB_LABELS, targets, strict=True):
        scores = {other: 0.04 for other in tiny_ser.SUPERB_LABELS} | {label: 0.88}
        fused = fuser.fuse(None, AudioEmotion(scores=scores, windows=1, model="x"))
        assert fused is not None and fused.label == target


def _offline_env(cache: Path) -> dict[str, str]:
    return {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def test_hub_id_from_an_offline_hf_cache(folder: Path, tmp_path: Path) -> None:
    fill_cache(folder, tmp_path / "hub", "testorg/tiny-ser")
    out = tmp_path / "out.jsonl"
    done = run_cli(
        "-q", "run", "--input", str(shared("audio/en/utterances/en_14_anger.wav")),
        "--sink", f"jsonl:{out}", "-o", "audio.name=transformers",
        "-o", "audio.model=testorg/tiny-ser", "-o", "transcriber.enabled=false",
        env={**_offline_env(tmp_path / "hub"), "HF_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    _check_voice(_utterances(out), tiny_ser.SUPERB_LABELS, "testorg/tiny-ser")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["-o", "audio.name=transformers", "-o", "audio.model=/nonexistent/ser"], "/nonexistent"),
        (["--config", str(EN)], "hf download superb/wav2vec2-base-superb-er"),
    ],
)
def test_a_missing_model_is_one_line_before_anything_loads(
    tmp_path: Path, args: list[str], names: str
) -> None:
    (tmp_path / "hub").mkdir()
    clip = shared("audio/en/utterances/en_00_joy.wav")
    done = run_cli(
        "run", "--input", str(clip), "-o", "transcriber.enabled=false", *args,
        env=_offline_env(tmp_path / "hub"),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamemo: error:"), lines
    assert "-o audio.model" in lines[0] and names in lines[0]


_PREFLIGHT = """
import sys
from streamemo.default_plugins.transformers_audio import TransformersVoiceEmotion as T
try:
    T.preflight(
        model={model!r}, window_s=4.0, hop_s=2.0, label_map=None, max_batch=16, device="auto"
    )
except Exception as exc:
    print("ERROR", exc)
print("HEAVY", sorted(m for m in ("torch", "transformers") if m in sys.modules))
"""


def test_preflight_and_import_stay_light(folder: Path, tmp_path: Path) -> None:
    for model, error in ((str(folder), False), (str(tmp_path / "none"), True)):
        done = subprocess.run(
            [sys.executable, "-c", _PREFLIGHT.format(model=model)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert ("ERROR " in done.stdout) is error, done.stdout
        assert "HEAVY []" in done.stdout


_LOAD = """
from streamemo.default_plugins.transformers_audio import TransformersVoiceEmotion
from streamemo.errors import StreamemoError
try:
    print("LABELS", TransformersVoiceEmotion(model={model!r}).labels)
except StreamemoError as exc:
    print("ERROR", exc)
"""


def test_code_in_the_model_folder_never_runs(folder: Path, tmp_path: Path) -> None:
    """auto_map in config.json and preprocessor_config.json names the folder's evil.py:
    with a known model_type the built-in class loads; with an unknown one, one line."""
    marker = tmp_path / "RAN"
    for case, model_type in (("known", "wav2vec2"), ("unknown", "evil-net")):
        bad = shutil.copytree(folder, tmp_path / case)
        (bad / "evil.py").write_text(tiny_ser.EVIL.format(marker=str(marker)), encoding="utf-8")
        auto = {"AutoConfig": "evil.C", "AutoModelForAudioClassification": "evil.M"}
        tiny_ser.edit_json(bad / "config.json", auto_map=auto, model_type=model_type)
        tiny_ser.edit_json(
            bad / "preprocessor_config.json", auto_map={"AutoFeatureExtractor": "evil.F"}
        )
        env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}
        done = subprocess.run(
            [sys.executable, "-c", _LOAD.format(model=str(bad))],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        out = done.stdout.strip().splitlines()[-1]
        if case == "known":
            assert out == f"LABELS {tiny_ser.SUPERB_LABELS}", out
        else:
            assert out.startswith("ERROR ") and "never" in out, out
        assert not marker.exists(), f"{case}: code from the model folder ran"
