"""The example plugins in plugins/, loaded as a user loads them: --plugins-dir plugins.

plugins/energy_emotion.py is an audio analyser (the diary sink has tests/test_sinks.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from streamemo.api import SAMPLE_RATE, ConfigError
from streamemo.testing import check_stage, run_pipeline, silence, speechlike
from tests.conftest import REPO, run_cli

PLUGINS = REPO / "plugins"


def loud_then_soft() -> np.ndarray:
    return np.concatenate(
        [
            silence(0.8),
            speechlike(1.5, level=0.6, seed=1),
            silence(1.0),
            speechlike(1.5, level=0.05, seed=2),
            silence(1.0),
        ]
    )


def _energy_run(tmp_path, *options: str):
    wav = tmp_path / "talk.wav"
    sf.write(wav, loud_then_soft(), SAMPLE_RATE, subtype="PCM_16")
    out = tmp_path / "out.jsonl"
    config = tmp_path / "energy.toml"  # as the plugin's docstring says
    config.write_text('[audio]\nname = "energy"\n')
    args = ["-q", "--plugins-dir", str(PLUGINS), "run", "--config", str(config)]
    args += ["--input", str(wav)]
    for option in ("transcriber.enabled=false", "text.enabled=false", "fuser.enabled=false"):
        args += ["-o", option]
    for option in options:
        args += ["-o", option]
    return run_cli(*args, "--sink", f"jsonl:{out}", timeout=120), out


def test_energy_emotion_through_the_command_line(tmp_path):
    result, out = _energy_run(tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    voices = [e["audio_emotion"] for e in events if e["type"] == "utterance"]
    assert [v["model"] for v in voices] == ["energy", "energy"]
    assert [max(v["scores"], key=v["scores"].get) for v in voices] == ["excited", "calm"]
    assert voices[0]["scores"]["excited"] > 0.9 and voices[1]["scores"]["excited"] < 0.5


def test_energy_emotion_checks_its_options_before_anything_loads(tmp_path):
    result, out = _energy_run(tmp_path, "audio.loud_db=-45")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "audio.loud_db (-45) must be above audio.quiet_db (-38.0)" in line
    assert not out.exists() or not out.read_text().strip()


def test_energy_emotion_is_listed_as_a_plugin():
    result = run_cli("--plugins-dir", str(PLUGINS), "plugins")
    assert result.returncode == 0, result.stderr
    assert "plugins/energy_emotion.py\n    hooks:  register_audio_analysers\n" in result.stdout
    assert "stages: audio:energy" in result.stdout


def test_energy_emotion_in_a_pipeline_of_fakes():
    run = run_pipeline(plugins_dir=PLUGINS, audio="energy", samples=loud_then_soft())
    assert [u.audio_emotion.label for u in run.utterances] == ["excited", "calm"]
    assert run.partials and all(p.audio_emotion.model == "energy" for p in run.partials)


def test_energy_emotion_meets_the_contract_and_reads_silence_as_flat():
    import importlib.util

    spec = importlib.util.spec_from_file_location("energy_emotion", PLUGINS / "energy_emotion.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    analyser = check_stage("audio", module.EnergyEmotion())
    assert analyser.analyse(silence(1.0)).scores == {"excited": 0.5, "calm": 0.5}
    assert analyser.analyse_latest(speechlike(1.0, level=0.6)).label == "excited"
    with pytest.raises(ConfigError):
        module.EnergyEmotion(loud_db=3.0)
