"""``python -m benchmarks ser --quick`` runs end to end (a tiny checkpoint, 3 utterances), so
the speech-emotion throughput benchmark cannot rot. Nothing about speed is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchmarks.ser_report import END, START, update_readme
from tests.conftest import REPO, SHARED, shared

pytestmark = pytest.mark.slow


def test_quick_run_reports_both_analysers_on_the_same_utterances(tmp_path):
    for relative in ("audio/en/utterances/index.json", "audio/en/en_diary.json"):
        shared(relative)
    sets = ["--sets", "diary", "singles"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "ser", "--quick", *sets, "--out", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "STREAMEMO_SHARED": str(SHARED)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (file,) = tmp_path.glob("*-ser-quick.json")
    data = json.loads(file.read_text(encoding="utf-8"))
    assert data["torch_threads"] >= 1 and data["checkpoint"]["parameters"] > 0
    assert list(data["seed"]) == list(data["transformers"])  # the same sets and batches
    for side in ("seed", "transformers"):
        for row in data[side].values():
            assert row["windows"] >= row["utterances"] >= 1
            assert row["forward_passes"] >= 1
            assert row["windows_per_s"]["median"] > 0 and row["x_realtime"]["median"] > 0
    # the superb-like extractor has no attention mask: utterances of two lengths, two passes
    assert data["transformers"]["utterances/*.wav | 2"]["forward_passes"] == 2
    assert "× real time" in done.stdout and "| en_diary (1) |" in done.stdout


def test_the_readme_part_is_added_once_then_replaced(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\nother sections\n", encoding="utf-8")
    update_readme(readme, "first table")
    update_readme(readme, "second table")
    text = readme.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1
    assert "second table" in text and "first table" not in text
    assert text.startswith("# Benchmarks\n\nother sections\n")
