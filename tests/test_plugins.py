"""Plugin loading: built-ins, --plugins-dir, the entry-point group, and fail-fast checks."""

import textwrap

import pytest

from streamemo.plugins import DEFAULT_PLUGINS, PluginError, Registry, get_plugin_manager
from tests.conftest import REPO, run_cli


def _plugin_dir(tmp_path, body: str):
    (tmp_path / "myplugin.py").write_text(textwrap.dedent(body))
    return tmp_path


def test_every_stage_is_a_plugin_registered_through_the_hooks():
    registry = Registry.collect(get_plugin_manager())
    assert set(registry.entries["sink"]) >= {"console", "jsonl"}
    assert set(registry.entries["fuser"]) == {"weighted", "todai"}
    for kind in ("source", "segmenter", "transcriber", "text", "audio"):
        assert registry.entries[kind], kind
        assert all(e.plugin in DEFAULT_PLUGINS for e in registry.entries[kind].values())


def test_plugins_dir_loads_the_example_sink():
    registry = Registry.collect(get_plugin_manager(REPO / "plugins"))
    assert registry.get("sink", "markdown-diary").plugin == "plugins/diary_markdown.py"


def test_a_misspelt_hook_fails_fast(tmp_path):
    folder = _plugin_dir(
        tmp_path,
        """
        import streamemo

        @streamemo.hookimpl
        def register_sink(register):
            register("x", object)
    """,
    )
    with pytest.raises(PluginError, match=r"unknown hook 'register_sink'.*check the spelling"):
        get_plugin_manager(folder)
    result = run_cli("--plugins-dir", str(folder), "plugins")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "register_sink" in result.stderr


def test_a_hook_with_wrong_arguments_fails_fast(tmp_path):
    folder = _plugin_dir(
        tmp_path,
        """
        import streamemo

        @streamemo.hookimpl
        def register_sinks(registrar):
            pass
    """,
    )
    with pytest.raises(PluginError, match="registrar"):
        get_plugin_manager(folder)


def test_two_plugins_registering_one_name_is_an_error(tmp_path):
    folder = _plugin_dir(
        tmp_path,
        """
        import streamemo

        @streamemo.hookimpl
        def register_sinks(register):
            register("console", object)
    """,
    )
    with pytest.raises(
        PluginError,
        match=r"sink 'console' is registered by both 'streamemo.default_plugins.console' and "
        r"'\S+/myplugin.py': rename one of them",
    ):
        Registry.collect(get_plugin_manager(folder))


def test_registration_goes_through_pluggy_so_tracing_and_wrappers_see_it(tmp_path):
    """Registry.collect calls the register_* hooks through pm.hook: pluggy's call
    monitoring sees every call, and a hook wrapper wraps each plugin's registration."""
    folder = _plugin_dir(
        tmp_path,
        """
        import streamemo

        WRAPPED = []

        @streamemo.hookimpl(wrapper=True)
        def register_sinks(register):
            WRAPPED.append(register)
            return (yield)
        """,
    )
    pm = get_plugin_manager(folder)
    called: list[tuple[str, list[str]]] = []
    undo = pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: called.append((name, [i.plugin_name for i in impls])),
        lambda outcome, name, impls, kwargs: None,
    )
    try:
        registry = Registry.collect(pm)
    finally:
        undo()
    sinks = [plugins for name, plugins in called if name == "register_sinks"]
    registering = {e.plugin for e in registry.entries["sink"].values()}
    # one call per registering plugin, each with the wrapper around it
    assert len(sinks) == len(registering) >= 3
    mine = f"{tmp_path.name}/myplugin.py"
    assert all(len(plugins) == 2 and plugins[1] == mine for plugins in sinks)
    assert {plugins[0] for plugins in sinks} == registering
    wrapper = pm.get_plugin(mine)
    assert len(wrapper.WRAPPED) == len(registering)
    assert {name for name, _ in called} == {
        "register_sources",
        "register_segmenters",
        "register_transcribers",
        "register_text_analysers",
        "register_audio_analysers",
        "register_fusers",
        "register_sinks",
    }


def test_unknown_stage_names_list_what_exists():
    registry = Registry.collect(get_plugin_manager())
    known = "no sink plugin named 'nope'; available: console, diary, jsonl"
    with pytest.raises(PluginError, match=known):
        registry.get("sink", "nope")


def test_entry_point_plugins_are_loaded(tmp_path):
    # a real installed distribution (dist-info on the path), found through importlib.metadata
    (tmp_path / "moodlamp.py").write_text(
        textwrap.dedent("""
        import streamemo

        @streamemo.hookimpl
        def register_sinks(register):
            register("moodlamp", lambda target=None: None)
    """)
    )
    info = tmp_path / "moodlamp-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: moodlamp\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[streamemo]\nmoodlamp = moodlamp\n")
    result = run_cli("plugins", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "moodlamp\n    hooks:  register_sinks\n    stages: sink:moodlamp" in result.stdout


def test_plugins_command_lists_each_plugin_with_its_hooks():
    result = run_cli("--plugins-dir", "plugins", "plugins")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "streamemo.default_plugins.vad_segmenter\n    hooks:  register_segmenters" in out
    assert "stages: fuser:weighted, fuser:todai" in out
    assert (
        "plugins/diary_markdown.py\n    hooks:  register_sinks\n    stages: sink:markdown-diary"
        in out
    )


def test_a_plugins_dir_that_is_not_there_is_an_error(tmp_path):
    (tmp_path / "plugin.py").write_text("")
    for folder, state in (
        (tmp_path / "missing", "does not exist"),
        (tmp_path / "plugin.py", "is not a folder"),
    ):
        with pytest.raises(PluginError, match=f"--plugins-dir '{folder}' {state}"):
            get_plugin_manager(folder)


def test_a_stage_check_is_registered_beside_its_factory_or_found_on_it(tmp_path):
    folder = _plugin_dir(
        tmp_path,
        """
        import streamemo

        class WithOwn:
            @classmethod
            def preflight(cls, **options):
                pass

        def check(**options):
            pass

        @streamemo.hookimpl
        def register_sinks(register):
            register("given", dict, preflight=check)
            register("own", WithOwn)
            register("none", dict)
        """,
    )
    registry = Registry.collect(get_plugin_manager(folder))
    assert registry.get("sink", "given").check.__name__ == "check"
    own = registry.get("sink", "own")
    assert own.check == own.factory.preflight
    assert registry.get("sink", "none").check is None
    # the built-in model stages bring theirs
    for kind, name in [
        ("transcriber", "faster-whisper"),
        ("audio", "todai-cnn-bilstm"),
        ("text", "offline-en"),
        ("source", "file"),
        ("sink", "jsonl"),
    ]:
        assert registry.get(kind, name).check is not None, (kind, name)
