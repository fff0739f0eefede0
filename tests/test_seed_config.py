"""The seed's own Korean hub setup, a named config now that the default is offline English:
it loads its exact recipe, with nothing inherited from the default."""

from streamemo.config import load_config
from tests.conftest import REPO

# the seed's recipe, as the default was before the offline English default
SEED_RECIPE = {
    "source": {"name": "mic"},
    "segmenter": {
        "name": "webrtcvad",
        "aggressiveness": 2,
        "hangover_ms": 600,
        "preroll_ms": 200,
        "max_utterance_s": 20,
    },
    "transcriber": {
        "name": "faster-whisper",
        "model": "small",
        "device": "auto",
        "compute_type": "auto",
        "language": "ko",
        "beam_size": 5,
    },
    "text": {
        "name": "transformers",
        "model": "HyukII/text-emotion-model",
        "max_length": 256,
        "aggregate": "share",
    },
    "audio": {
        "name": "todai-cnn-bilstm",
        "model": "HyukII/audio-emotion-model",
        "baseline": "male",
        "hop_frames": 50,
    },
    "fuser": {"name": "todai"},
    "sinks": ["console"],
}


def test_the_korean_config_loads_the_seeds_exact_recipe():
    config = load_config(REPO / "configs" / "seed-ko.toml")
    assert {key: config[key] for key in SEED_RECIPE} == SEED_RECIPE


def test_overrides_still_reach_the_korean_recipe():
    config = load_config(REPO / "configs" / "seed-ko.toml", ["transcriber.model=large-v3"])
    assert config["transcriber"]["model"] == "large-v3"
    assert config["transcriber"]["language"] == "ko" and config["fuser"] == {"name": "todai"}
